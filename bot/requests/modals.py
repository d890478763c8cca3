"""Block Kit for /ssp's modals: the request form, the answers offered before filing, assigning."""

from __future__ import annotations

import json
from typing import Any

from bot.common import views
from bot.requests import service
from bot.requests.actions import Callback, Field
from bot.requests.faq import Suggestion
from bot.requests.views import esc, sla_text, suggestion_block
from storage.models import Team

Block = views.Block


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": views.plain(text[:75]), "value": value}


def _text_input(
    field: str,
    label: str,
    *,
    optional: bool = False,
    multiline: bool = False,
    max_length: int | None = None,
    initial: str | None = None,
    placeholder: str | None = None,
) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": field, "multiline": multiline}
    if max_length:
        element["max_length"] = max_length
    if initial:
        element["initial_value"] = initial[: max_length or 3000]
    if placeholder:
        element["placeholder"] = views.plain(placeholder)
    return {
        "type": "input",
        "block_id": field,
        "label": views.plain(label),
        "optional": optional,
        "element": element,
    }


def request_modal(
    *,
    teams: list[Team],
    selected: Team | None,
    summary: str = "",
    details: str = "",
    source_note: str | None = None,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    """Team, summary, details and urgency; a shortcut pre-fills them from the message."""
    team_select: Block = {
        "type": "static_select",
        "action_id": Field.TEAM.value,
        "placeholder": views.plain("Choose a service team"),
        "options": [
            _option(t.name + (" (confidential)" if t.confidential else ""), str(t.id)) for t in teams[:100]
        ],
    }
    if selected is not None:
        team_select["initial_option"] = _option(
            selected.name + (" (confidential)" if selected.confidential else ""), str(selected.id)
        )
    urgency = {
        "type": "static_select",
        "action_id": Field.URGENCY.value,
        "options": [_option(u, u) for u in service.URGENCIES],
        "initial_option": _option("normal", "normal"),
    }
    blocks: list[Block] = []
    if source_note:
        blocks.append(views.context(source_note))
    blocks += [
        {"type": "input", "block_id": Field.TEAM.value, "label": views.plain("Team"), "element": team_select},
        _text_input(
            Field.SUMMARY,
            "Summary",
            max_length=service.SUMMARY_LIMIT,
            initial=summary,
            placeholder="What do you need?",
        ),
        _text_input(
            Field.DETAILS, "Details", optional=True, multiline=True, max_length=3000, initial=details
        ),
        {
            "type": "input",
            "block_id": Field.URGENCY.value,
            "label": views.plain("Urgency"),
            "element": urgency,
        },
        views.context("Before it is filed you'll see the team's closest FAQ answers, if any."),
    ]
    if not teams:
        blocks = [
            views.section("There are no service teams yet. An admin adds them with `flywheel import teams`.")
        ]
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": Callback.REQUEST.value,
        "title": views.plain("Ask a service team"),
        "close": views.plain("Cancel"),
        "private_metadata": json.dumps(metadata)[:3000],
        "blocks": blocks,
    }
    if teams:
        view["submit"] = views.plain("Continue")
    return view


def offer_modal(
    team: Team, offer_id: int, summary: str, found: list[Suggestion], metadata: dict[str, Any]
) -> dict[str, Any]:
    """The closest answers, each with "This answered it"; submitting means "Still need help"."""
    blocks: list[Block] = [
        views.section(f"*Before you ask {esc(team.name)}* — these might answer “{esc(summary[:200])}”:"),
        *(suggestion_block(s, offer_id) for s in found),
        views.context(f"SLA: {sla_text(team)}. Nothing is filed until you press *Still need help*."),
    ]
    return {
        "type": "modal",
        "callback_id": Callback.OFFER.value,
        "title": views.plain("Before you file"),
        "submit": views.plain("Still need help"),
        "close": views.plain("Cancel"),
        "private_metadata": json.dumps(metadata | {"offer": offer_id})[:3000],
        "blocks": blocks,
    }


def notice_modal(title: str, text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": views.plain(title[:24]),
        "close": views.plain("Close"),
        "blocks": [views.section(text)],
    }


def assign_modal(
    req_id: int, summary: str, members: list[tuple[str, str]], metadata: dict[str, Any]
) -> dict[str, Any]:
    """Pick one of the team's members (id, display name)."""
    return {
        "type": "modal",
        "callback_id": Callback.ASSIGN.value,
        "title": views.plain("Assign"),
        "submit": views.plain("Assign"),
        "close": views.plain("Cancel"),
        "private_metadata": json.dumps(metadata | {"request": req_id})[:3000],
        "blocks": [
            views.section(f"`{service.ref(req_id)}` {esc(summary[:300])}"),
            {
                "type": "input",
                "block_id": Field.ASSIGNEE.value,
                "label": views.plain("Assign to"),
                "element": {
                    "type": "static_select",
                    "action_id": Field.ASSIGNEE.value,
                    "placeholder": views.plain("A member of the team"),
                    "options": [_option(name, uid) for uid, name in members[:100]],
                },
            },
        ],
    }
