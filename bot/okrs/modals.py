"""Block Kit for /okr's modals: the create form, the check-in form, the parent picker's options,
small notices, and their errors — pure functions returning dicts. (The review form is in
`review_views.py`.) Modal text is plain: errors go back without mrkdwn escapes.
"""

from __future__ import annotations

import json
from typing import Any

from bot.common import views
from bot.common.ids import Kind, format_id
from bot.okrs.actions import Callback, Field
from bot.okrs.checks import fmt_number, is_percent_unit, plain_text
from bot.okrs.scoring import CycleSpan, KrState
from bot.okrs.views import esc, kr_line, oid, value
from storage.models import Team
from storage.models.okrs import Objective

Block = views.Block
MODAL_KR_ROWS = 5
OPTIONS_LIMIT = 100  # Slack's most options in a block_suggestion answer


def modal_errors(errors: dict[str, str]) -> dict[str, Any]:
    """`response_action: errors` with plain text (Slack shows modal errors literally, so no `&lt;`)."""
    out = {}
    for field, message in errors.items():
        text = plain_text(message)
        out[field] = text if len(text) <= 150 else text[:149] + "…"
    return {"response_action": "errors", "errors": out}


def text_input(
    field: str,
    label: str,
    *,
    optional: bool = False,
    multiline: bool = False,
    max_length: int | None = None,
    placeholder: str | None = None,
    initial: str | None = None,
    hint: str | None = None,
) -> Block:
    """A plain-text input block whose block_id and action_id are both `field`."""
    element: Block = {"type": "plain_text_input", "action_id": field, "multiline": multiline}
    if max_length:
        element["max_length"] = max_length
    if placeholder:
        element["placeholder"] = views.plain(placeholder)
    if initial:
        element["initial_value"] = initial
    block: Block = {
        "type": "input",
        "block_id": field,
        "label": views.plain(label[:150]),
        "optional": optional,
        "element": element,
    }
    if hint:
        block["hint"] = views.plain(hint[:150])
    return block


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": views.plain(text[:75]), "value": value}


def parent_option(o: Objective) -> dict[str, Any]:
    """One objective in the parent picker: `O-12 Title` (cut to Slack's 75 characters), its id."""
    return _option(f"{oid(o.id)} {o.title}", str(o.id))


def parent_options(
    parents: list[Objective], *, query: str, my_team_ids: set[int] | None = None
) -> dict[str, Any]:
    """The answer to the parent picker's `block_suggestion`, within Slack's 100 options.

    A search lists its matches as the service ranked them. The menu as it opens (no query) shows
    the top of the alignment tree in groups: company objectives, the asker's teams', the rest.
    """
    parents = parents[:OPTIONS_LIMIT]
    if query.strip() or not parents:
        return {"options": [parent_option(p) for p in parents]}
    mine = my_team_ids or set()
    company = [p for p in parents if p.parent_id is None]
    team_level = [p for p in parents if p.parent_id is not None and p.team_id in mine]
    rest = [p for p in parents if p.parent_id is not None and p.team_id not in mine]
    groups = [
        {"label": views.plain(label), "options": [parent_option(p) for p in group]}
        for label, group in (("Company and top level", company), ("Your teams", team_level), ("Other", rest))
        if group
    ]
    return {"option_groups": groups}


def new_objective_modal(
    *,
    teams: list[Team],
    with_parent: bool,
    cycles: list[CycleSpan],
    cycle_key: str,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    """Objective, cycle (when the next one is open for drafting), team, parent and up to five KRs,
    each in `/okr kr`'s grammar.

    The parent is an `external_select`: Slack asks the app for options as the user types (see
    `parent_options`), so any objective of the cycle can be found, however many there are.
    """
    blocks: list[Block] = [
        views.context(
            (f"Cycle {cycle_key}. " if len(cycles) < 2 else "")
            + "Everyone can read OKRs; you, the parent's owner and admins can change them."
        ),
        text_input(Field.TITLE, "Objective", max_length=200, placeholder="Make checkout effortless"),
        text_input(Field.DESCRIPTION, "Why it matters", optional=True, multiline=True, max_length=2000),
    ]
    if len(cycles) > 1:
        options = [_option(f"{c.key} ({c.starts_on:%b %-d} – {c.last_day:%b %-d})", c.key) for c in cycles]
        initial = next((o for o, c in zip(options, cycles, strict=True) if c.key == cycle_key), options[0])
        blocks.append(
            {
                "type": "input",
                "block_id": Field.CYCLE.value,
                "label": views.plain("Cycle"),
                "element": {
                    "type": "static_select",
                    "action_id": Field.CYCLE.value,
                    "options": options,
                    "initial_option": initial,
                },
                "hint": views.plain(
                    "The next cycle is open for drafting. The parent must be in the same cycle."
                ),
            }
        )
    if teams:
        blocks.append(
            {
                "type": "input",
                "block_id": Field.TEAM.value,
                "optional": True,
                "label": views.plain("Team"),
                "element": {
                    "type": "static_select",
                    "action_id": Field.TEAM.value,
                    "placeholder": views.plain("Choose a team"),
                    "options": [_option(t.name, str(t.id)) for t in teams[:100]],
                },
            }
        )
    if with_parent:
        blocks.append(
            {
                "type": "input",
                "block_id": Field.PARENT.value,
                "optional": True,
                "label": views.plain("Aligned to (parent objective)"),
                "element": {
                    "type": "external_select",
                    "action_id": Field.PARENT.value,
                    "placeholder": views.plain("Search by O-n or title"),
                    "min_query_length": 0,
                },
                "hint": views.plain("Type O-12 or words of its title. Also: `/okr new <title> parent:O-n`."),
            }
        )
    for i in range(1, MODAL_KR_ROWS + 1):
        blocks.append(
            text_input(
                Field.KR.nth(i),
                f"Key result {i}",
                optional=True,
                max_length=400,
                placeholder="Cut p95 checkout latency target:100 start:300 unit:ms weight:0.5"
                if i == 1
                else None,
            )
        )
    blocks.append(
        views.context(
            "Key result: `&lt;title&gt; target:&lt;number&gt; [start:&lt;number&gt;] [unit:&lt;text&gt;] "
            "[weight:&lt;0–1&gt;]` — a weight is the key result's share of the objective; "
            "weights should sum to 1 (key results without one share what is left)."
        )
    )
    return {
        "type": "modal",
        "callback_id": Callback.NEW_OBJECTIVE.value,
        "title": views.plain("New objective"),
        "submit": views.plain("Create"),
        "close": views.plain("Cancel"),
        "private_metadata": json.dumps(metadata)[:3000],
        "blocks": blocks,
    }


def checkin_modal(k: KrState, objective: Objective, *, metadata: dict[str, Any]) -> dict[str, Any]:
    """A new value — or a progress, a share of the way, in its own field so `60%` is never both.

    On a KR measured in %, the value field takes the unit (`35` or `35%` is 35%); elsewhere it
    takes the KR's own unit. The confidence is pre-selected only while the last one still counts.
    """
    kr = k.kr
    unit = f" ({kr.unit})" if kr.unit else ""
    now, target = plain_text(value(kr.current, kr.unit)), plain_text(value(kr.target, kr.unit))
    way = f"from {plain_text(value(kr.start, kr.unit))} to {target}"
    if is_percent_unit(kr.unit):
        value_hint = (
            f"In % — 35 or 35% both mean {plain_text(value(35, kr.unit))}. Now {now}, target {target}."
        )
        example = "e.g. 35 or 35%"
    else:
        value_hint = f"In the key result's own unit. Now {now}, target {target}."
        example = f"e.g. {fmt_number(kr.current)}"
    value_input = text_input(
        Field.VALUE, f"New value{unit}", optional=True, max_length=40, placeholder=example
    )
    value_input["hint"] = views.plain(value_hint)
    progress = text_input(
        Field.PROGRESS,
        "…or progress (% of the way)",
        optional=True,
        max_length=10,
        placeholder="e.g. 50%",
    )
    progress["hint"] = views.plain(f"A share of the way {way}: 50% is halfway. Fill in one of the two.")
    confidence: Block = {
        "type": "input",
        "block_id": Field.CONFIDENCE.value,
        "optional": True,
        "label": views.plain("Confidence (1–10)"),
        "element": {
            "type": "static_select",
            "action_id": Field.CONFIDENCE.value,
            "placeholder": views.plain("How likely is the target?"),
            "options": [_option(str(n), str(n)) for n in range(1, 11)],
        },
    }
    if k.confidence is not None:
        confidence["element"]["initial_option"] = _option(str(k.confidence), str(k.confidence))
    return {
        "type": "modal",
        "callback_id": Callback.CHECKIN.value,
        "title": views.plain("Check in"),
        "submit": views.plain("Save"),
        "close": views.plain("Cancel"),
        "private_metadata": json.dumps(metadata | {"kr": kr.id})[:3000],
        "blocks": [
            views.section(kr_line(k)),
            views.context(f"`{format_id(Kind.OBJECTIVE, objective.id or 0)}` {esc(objective.title)}"),
            value_input,
            progress,
            confidence,
            text_input(Field.NOTE, "Note", optional=True, multiline=True, max_length=2000),
        ],
    }


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A small modal for answers to a button click, which work the same from a message or the Home."""
    return {
        "type": "modal",
        "title": views.plain(title[:24]),
        "close": views.plain("Close"),
        "blocks": [views.section(f":warning: {text}")],
    }
