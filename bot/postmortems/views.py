"""Block Kit for /postmortem."""

from __future__ import annotations

from typing import Any

from bot.common import views

HELP = [
    ("/postmortem new [title] [sev:<1-4>]", "start a postmortem from the template"),
    ("/postmortem draft", "in an incident channel: a draft whose timeline comes from the channel"),
    ("/postmortem list [draft|review|published]  ·  /postmortem PM-n", "browse"),
    ("/postmortem search <words>", "search postmortems"),
    ("/postmortem review PM-n  ·  /postmortem publish PM-n", "draft → in review → published"),
    ("/postmortem action PM-n <title> owner:@user due:<YYYY-MM-DD>", "add an action item"),
    ("/postmortem done AI-n", "close an action item"),
]


def help_message() -> dict[str, Any]:
    return views.help_message(
        "/postmortem — blameless postmortems",
        HELP,
        "React with :pushpin: in a linked channel to add to the timeline.",
    )
