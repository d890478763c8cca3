"""Action, callback and field IDs of /okr's Block Kit, shared by views.py (which emits them) and
slack.py (which listens for them). One Enum each, so no ID is a string typed in two places.

Buttons repeat on a message (one Check-in button per KR), so their action_id is the prefix below
plus `:` and the record's number, which keeps every action_id unique and lets a test or a person
address one button; listeners match on the prefix.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Action(StrEnum):
    CHECKIN = "okr_checkin"  # open the check-in modal for a KR
    OPEN_OBJECTIVE = "okr_open"  # show one objective (drill-down from the tree)
    SHARE = "okr_share"  # post what I see in the channel
    NEW = "okr_new"  # open the create modal (App Home)
    REVIEW = "okr_review_open"  # open the cycle-review modal (the review DM, the App Home)
    CARRY = "okr_carry"  # carry an unfinished KR over into the next cycle

    def for_id(self, number: int | str) -> str:
        return f"{self.value}:{number}"

    def pattern(self) -> re.Pattern[str]:
        return re.compile(rf"^{re.escape(self.value)}(:.*)?$")


class Callback(StrEnum):
    NEW_OBJECTIVE = "okr_new_objective"
    CHECKIN = "okr_checkin_modal"
    REVIEW = "okr_review_modal"


class Field(StrEnum):
    """block_id == action_id for every modal input, so a submission is read by one name."""

    TITLE = "okr_title"
    DESCRIPTION = "okr_description"
    TEAM = "okr_team"
    PARENT = "okr_parent"
    KR = "okr_kr"  # + index 1..5
    CYCLE = "okr_cycle"
    VALUE = "okr_value"
    PROGRESS = "okr_progress"  # a share of the way, instead of a value
    CONFIDENCE = "okr_confidence"
    NOTE = "okr_note"
    # The review modal: + the KR's or the objective's number.
    FINAL = "okr_final"
    WORKED = "okr_worked"
    DIDNT = "okr_didnt"
    NEXT = "okr_next"

    def nth(self, index: int) -> str:
        return f"{self.value}_{index}"

    def index_of(self, field_id: str) -> int | None:
        """`okr_final_12` → 12 for FINAL; None when `field_id` is not one of this field's."""
        prefix = f"{self.value}_"
        tail = field_id[len(prefix) :] if field_id.startswith(prefix) else ""
        return int(tail) if tail.isdigit() else None
