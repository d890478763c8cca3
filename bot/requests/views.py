"""Block Kit for /ssp."""

from __future__ import annotations

from typing import Any

from bot.common import views

HELP = [
    ("/ssp", "the catalogue of service teams, their SLAs and how to ask"),
    ("/ssp request  ·  /ssp request <team> <summary…>", "ask a team for help (form, or quick)"),
    ("/ssp mine  ·  /ssp REQ-n", "your open requests; one request with its history"),
    ("/ssp queue [team]", "a team's open requests, oldest SLA first"),
    ("/ssp claim REQ-n  ·  /ssp assign REQ-n @user", "triage"),
    ("/ssp comment REQ-n <text>  ·  /ssp resolve REQ-n [note]  ·  /ssp reopen REQ-n", "follow up"),
    ("/ssp faq [team]  ·  /ssp faq add <team> <question> | <answer>", "a team's FAQ"),
]


def help_message() -> dict[str, Any]:
    return views.help_message("/ssp — shared-service requests", HELP)
