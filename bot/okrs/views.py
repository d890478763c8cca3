"""Block Kit for /okr."""

from __future__ import annotations

from typing import Any

from bot.common import views

HELP = [
    ("/okr  ·  /okr mine", "your objectives and key results in the current cycle"),
    ("/okr @user  ·  /okr team <name>  ·  /okr O-12", "someone's, a team's, or one objective"),
    ("/okr tree [team]", "the alignment tree from company objectives down"),
    ("/okr new", "create an objective in a form"),
    ("/okr new <title> [team:<name>] [parent:O-n]", "quick create"),
    ("/okr kr O-n <title> target:<number> [start:<number>] [unit:<text>]", "add a key result"),
    ("/okr checkin KR-n <value>[%] [confidence:<1-10>] [note…]", "record progress"),
    ("/okr history KR-n  ·  /okr search <words>", "a key result's check-ins; search titles and notes"),
    ("/okr cycle  ·  /okr atrisk [team]", "the current cycle with days left; key results at risk"),
]


def help_message() -> dict[str, Any]:
    return views.help_message(
        "/okr — objectives and key results",
        HELP,
        "Every OKR is visible to everyone; add `share` to post in the channel.",
    )
