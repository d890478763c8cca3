"""Action, callback and field IDs of /ssp's Block Kit, shared by views.py and slack.py.

Buttons repeat (one Claim per request on a list), so their action_id is the prefix plus `:` and
the request's number, which keeps every action_id unique; listeners match on the prefix.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Action(StrEnum):
    CLAIM = "ssp_claim"
    ASSIGN = "ssp_assign"  # opens the assign modal
    RESOLVE = "ssp_resolve"
    REOPEN = "ssp_reopen"
    OPEN = "ssp_open"  # show one request with its history
    RATE = "ssp_rate"  # value `<request id>:<1-5>`
    ANSWERED = "ssp_answered"  # "This answered it" — value `<offer id>:<FAQ-n|REQ-n>`
    STILL_NEED = "ssp_still_need"  # "Still need help" — value `<offer id>`
    NEW = "ssp_new"  # App Home: open the request modal

    def for_id(self, number: int | str) -> str:
        return f"{self.value}:{number}"

    def pattern(self) -> re.Pattern[str]:
        return re.compile(rf"^{re.escape(self.value)}(:.*)?$")


class Callback(StrEnum):
    REQUEST = "ssp_request_modal"
    OFFER = "ssp_offer_modal"
    ASSIGN = "ssp_assign_modal"


class Field(StrEnum):
    """block_id == action_id for every modal input."""

    TEAM = "ssp_team"
    SUMMARY = "ssp_summary"
    DETAILS = "ssp_details"
    URGENCY = "ssp_urgency"
    ASSIGNEE = "ssp_assignee"
