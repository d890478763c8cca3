"""Action, callback and field IDs of /postmortem's Block Kit, shared by views (which emit them)
and listeners (which match them). One Enum each, so no ID is a string typed in two places.

Buttons repeat (one per postmortem, entry or item), so their action_id is the prefix below plus
`:` and the record's number; listeners match on the prefix.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Action(StrEnum):
    OPEN = "pm_open"  # show one postmortem
    EDIT = "pm_edit"  # the template modal
    ADD_ENTRY = "pm_entry_add"  # "Add timeline entry" modal
    EDIT_TIMELINE = "pm_timeline"  # "Edit timeline" modal (lists entries)
    EDIT_ENTRY = "pm_entry_edit"  # pushed from "Edit timeline": one entry
    ADD_ACTION = "pm_action_add"  # "Add action item" modal
    EDIT_ACTIONS = "pm_actions"  # "Edit action items" modal (lists items)
    EDIT_ACTION = "pm_action_edit"  # pushed from "Edit action items": one item
    DONE = "pm_action_done"  # close an action item (App Home, lists)
    CHECK = "pm_check"  # run the blameless check
    REVIEW = "pm_review"  # send for review (checks first)
    PUBLISH = "pm_publish"  # publish (checks first)
    REVIEW_ANYWAY = "pm_review_anyway"  # after findings: send for review all the same
    PUBLISH_ANYWAY = "pm_publish_anyway"  # after findings: publish all the same

    def for_id(self, number: int | str) -> str:
        return f"{self.value}:{number}"

    def pattern(self) -> re.Pattern[str]:
        return re.compile(rf"^{re.escape(self.value)}(:.*)?$")


class Callback(StrEnum):
    TEMPLATE = "pm_template"  # create or edit
    ADD_ENTRY = "pm_entry_add"
    TIMELINE = "pm_timeline"
    EDIT_ENTRY = "pm_entry_edit"
    ADD_ACTION = "pm_action_add"
    ACTIONS = "pm_actions"
    EDIT_ACTION = "pm_action_edit"


class Field(StrEnum):
    """block_id == action_id for every modal input, so a submission is read by one name.

    The template's text fields use the field key itself (`pm_f_summary`…) via `text()`.
    """

    SEVERITY = "pm_severity"
    PARTICIPANTS = "pm_participants"
    CHANNEL = "pm_channel"
    DATE = "pm_date"
    TIME = "pm_time"
    TEXT = "pm_text"
    LINK = "pm_link"
    DELETE = "pm_delete"
    TITLE = "pm_ai_title"
    OWNER = "pm_ai_owner"
    DUE = "pm_ai_due"
    KIND = "pm_ai_kind"
    STATUS = "pm_ai_status"

    @staticmethod
    def text(key: str) -> str:
        return f"pm_f_{key}"
