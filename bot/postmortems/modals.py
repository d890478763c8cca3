"""Block Kit for /postmortem's modals: the template, the timeline and the action items.

The template's long fields are multiline. The timeline and the action items are edited in their
own follow-up modals, opened from buttons on the postmortem (message or App Home): "Add timeline
entry", "Edit timeline" (each entry with an Edit button that pushes its own modal), "Add action
item" and "Edit action items". Every modal carries the postmortem's ID (and where it was opened)
in `private_metadata`; inputs use the same string for block_id and action_id.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.common import views
from bot.postmortems.actions import Action, Callback, Field
from bot.postmortems.rules import (
    ACTION_TITLE_LIMIT,
    FIELDS,
    SEVERITIES,
    TIMELINE_TEXT_LIMIT,
    ActionKind,
    ActionStatus,
)
from bot.postmortems.service import Detail, ai_ref, pm_ref
from bot.postmortems.views import KIND_LABEL, show, when
from storage.models.postmortems import ActionItem, TimelineEntry

Block = views.Block
MAX_LISTED = 90  # entries listed in "Edit timeline" (Slack allows 100 blocks in a modal)


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": views.plain(text[:75]), "value": value}


def _text_input(
    field: str,
    label: str,
    *,
    multiline: bool = False,
    optional: bool = True,
    initial: str = "",
    max_length: int = 3000,
    hint: str = "",
    placeholder: str = "",
) -> Block:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": field,
        "multiline": multiline,
        "max_length": max_length,
    }
    if initial:
        element["initial_value"] = initial[:max_length]
    if placeholder:
        element["placeholder"] = views.plain(placeholder)
    block: Block = {
        "type": "input",
        "block_id": field,
        "optional": optional,
        "label": views.plain(label),
        "element": element,
    }
    if hint:
        block["hint"] = views.plain(hint)
    return block


def _modal(
    callback: str, title: str, blocks: list[Block], metadata: dict[str, Any], submit: str = "Save"
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback,
        "title": views.plain(title[:24]),
        "submit": views.plain(submit),
        "close": views.plain("Cancel"),
        "private_metadata": json.dumps(metadata)[:3000],
        "blocks": blocks[: views.VIEW_BLOCK_LIMIT],
    }


def _severity_select(initial: int | None) -> Block:
    options = [_option(label, str(n)) for n, label in SEVERITIES.items()]
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": Field.SEVERITY.value,
        "placeholder": views.plain("How bad was it?"),
        "options": options,
    }
    if initial in SEVERITIES:
        element["initial_option"] = options[int(initial or 1) - 1]
    return {
        "type": "input",
        "block_id": Field.SEVERITY.value,
        "optional": True,
        "label": views.plain("Severity"),
        "element": element,
    }


def template_modal(
    *,
    values: dict[str, Any],
    participants: list[str],
    channel_id: str | None,
    metadata: dict[str, Any],
    ref: str | None = None,
) -> dict[str, Any]:
    """The whole template: a new postmortem (`ref` None) or an edit of one."""
    blocks: list[Block] = [
        views.context(
            "Blameless: describe what let it happen — systems, signals, processes — not who. "
            "The text is checked for blame before review and publishing."
        )
    ]
    for f in FIELDS:
        blocks.append(
            _text_input(
                Field.text(f.key),
                f.label,
                multiline=f.multiline,
                optional=f.key != "title",
                initial=str(values.get(f.key) or ""),
                max_length=f.limit,
                hint=f.hint,
            )
        )
        if f.key == "title":
            blocks.append(_severity_select(values.get("severity")))
    people: dict[str, Any] = {"type": "multi_users_select", "action_id": Field.PARTICIPANTS.value}
    if participants:
        people["initial_users"] = participants[:50]
    blocks.append(
        {
            "type": "input",
            "block_id": Field.PARTICIPANTS.value,
            "optional": True,
            "label": views.plain("Participants"),
            "element": people,
            "hint": views.plain(
                "Participants, like the author, can edit it and move it to review and publish."
            ),
        }
    )
    channel: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": Field.CHANNEL.value,
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if channel_id:
        channel["initial_conversation"] = channel_id
    blocks.append(
        {
            "type": "input",
            "block_id": Field.CHANNEL.value,
            "optional": True,
            "label": views.plain("Incident channel"),
            "element": channel,
            "hint": views.plain(":pushpin: a message there to add it to the timeline."),
        }
    )
    title = f"Edit {ref}" if ref else "New postmortem"
    return _modal(Callback.TEMPLATE.value, title, blocks, metadata, submit="Save" if ref else "Create")


def entry_modal(
    d: Detail,
    *,
    tz: ZoneInfo,
    now: datetime,
    metadata: dict[str, Any],
    entry: TimelineEntry | None = None,
) -> dict[str, Any]:
    """ "Add timeline entry", or (with `entry`) edit one: when (in the user's zone), what happened."""
    at = (entry.at if entry else now).astimezone(tz)
    blocks: list[Block] = [views.context(f"{d.ref} {show(d.pm.title)} · times in {tz.key}")]
    blocks.append(
        {
            "type": "input",
            "block_id": Field.DATE.value,
            "label": views.plain("Date"),
            "element": {
                "type": "datepicker",
                "action_id": Field.DATE.value,
                "initial_date": at.date().isoformat(),
            },
        }
    )
    blocks.append(
        {
            "type": "input",
            "block_id": Field.TIME.value,
            "label": views.plain("Time"),
            "element": {
                "type": "timepicker",
                "action_id": Field.TIME.value,
                "initial_time": at.strftime("%H:%M"),
            },
        }
    )
    blocks.append(
        _text_input(
            Field.TEXT.value,
            "What happened",
            multiline=True,
            optional=False,
            initial=entry.text if entry else "",
            max_length=TIMELINE_TEXT_LIMIT,
        )
    )
    if entry is None:
        blocks.append(
            _text_input(Field.LINK.value, "Link", max_length=500, hint="A message link, dashboard or ticket.")
        )
        return _modal(Callback.ADD_ENTRY.value, "Add timeline entry", blocks, metadata, submit="Add")
    blocks.append(
        {
            "type": "input",
            "block_id": Field.DELETE.value,
            "optional": True,
            "label": views.plain("Remove"),
            "element": {
                "type": "checkboxes",
                "action_id": Field.DELETE.value,
                "options": [_option("Remove this entry from the timeline", "delete")],
            },
        }
    )
    return _modal(Callback.EDIT_ENTRY.value, "Edit timeline entry", blocks, metadata | {"entry": entry.id})


def timeline_modal(d: Detail, *, tz: ZoneInfo, metadata: dict[str, Any]) -> dict[str, Any]:
    """Every entry with its own Edit button (which pushes the entry's modal)."""
    blocks: list[Block] = [
        views.context(f"{d.ref} {show(d.pm.title)} · {len(d.timeline)} entries · times in {tz.key}")
    ]
    for e in d.timeline[:MAX_LISTED]:
        who = f" <@{e.posted_by}>:" if e.posted_by else ""
        blocks.append(
            views.section(
                f"`{when(e.at, tz)}`{who} {show(' '.join(e.text.split()))[:2500]}",
                accessory=views.button("Edit", Action.EDIT_ENTRY.for_id(e.id or 0), str(e.id)),
            )
        )
    if len(d.timeline) > MAX_LISTED:
        blocks.append(views.context(f"…and {len(d.timeline) - MAX_LISTED} more (the latest are not listed)."))
    if not d.timeline:
        blocks.append(views.section("No entries yet."))
    blocks.append(
        views.actions(views.button("Add timeline entry", Action.ADD_ENTRY.for_id(d.pm.id or 0), str(d.pm.id)))
    )
    modal = _modal(Callback.TIMELINE.value, "Edit timeline", blocks, metadata, submit="Done")
    return modal


def _kind_select(initial: str | None) -> Block:
    options = [_option(KIND_LABEL[k.value].capitalize(), k.value) for k in ActionKind]
    element: dict[str, Any] = {"type": "static_select", "action_id": Field.KIND.value, "options": options}
    chosen = initial or ActionKind.CORRECTIVE.value
    element["initial_option"] = next(o for o in options if o["value"] == chosen)
    return {
        "type": "input",
        "block_id": Field.KIND.value,
        "label": views.plain("Type"),
        "element": element,
        "hint": views.plain(
            "Detective: find it sooner · preventative: stop it recurring · corrective: fix what broke."
        ),
    }


def action_modal(
    d: Detail, *, today: date, metadata: dict[str, Any], item: ActionItem | None = None
) -> dict[str, Any]:
    """ "Add action item", or (with `item`) edit one: title, owner, due date, type (and status)."""
    blocks: list[Block] = [views.context(f"{d.ref} {show(d.pm.title)}")]
    blocks.append(
        _text_input(
            Field.TITLE.value,
            "Action item",
            optional=False,
            initial=item.title if item else "",
            max_length=ACTION_TITLE_LIMIT,
            placeholder="Alert on connection pool saturation",
        )
    )
    owner: dict[str, Any] = {"type": "users_select", "action_id": Field.OWNER.value}
    if item:
        owner["initial_user"] = item.owner_id
    blocks.append(
        {"type": "input", "block_id": Field.OWNER.value, "label": views.plain("Owner"), "element": owner}
    )
    due = (item.due_on if item else today).isoformat()
    blocks.append(
        {
            "type": "input",
            "block_id": Field.DUE.value,
            "label": views.plain("Due"),
            "element": {"type": "datepicker", "action_id": Field.DUE.value, "initial_date": due},
        }
    )
    blocks.append(_kind_select(item.kind if item else None))
    if item is None:
        return _modal(Callback.ADD_ACTION.value, "Add action item", blocks, metadata, submit="Add")
    statuses = [_option("Open", ActionStatus.OPEN.value), _option("Done", ActionStatus.DONE.value)]
    blocks.append(
        {
            "type": "input",
            "block_id": Field.STATUS.value,
            "label": views.plain("Status"),
            "element": {
                "type": "static_select",
                "action_id": Field.STATUS.value,
                "options": statuses,
                "initial_option": statuses[1] if item.status == ActionStatus.DONE.value else statuses[0],
            },
        }
    )
    return _modal(Callback.EDIT_ACTION.value, f"Edit {ai_ref(item.id)}", blocks, metadata | {"item": item.id})


def actions_modal(d: Detail, *, today: date, metadata: dict[str, Any]) -> dict[str, Any]:
    from bot.postmortems.views import action_line

    blocks: list[Block] = [views.context(f"{d.ref} {show(d.pm.title)} · {len(d.actions)} action items")]
    for item in d.actions[:MAX_LISTED]:
        blocks.append(
            views.section(
                action_line(item, today),
                accessory=views.button("Edit", Action.EDIT_ACTION.for_id(item.id or 0), str(item.id)),
            )
        )
    if not d.actions:
        blocks.append(views.section("No action items yet."))
    blocks.append(
        views.actions(views.button("Add action item", Action.ADD_ACTION.for_id(d.pm.id or 0), str(d.pm.id)))
    )
    return _modal(Callback.ACTIONS.value, "Edit action items", blocks, metadata, submit="Done")


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """An answer to a button click, which works the same from a message or the App Home."""
    return {
        "type": "modal",
        "title": views.plain(title[:24]),
        "close": views.plain("Close"),
        "blocks": [views.section(f":warning: {show(text)}")],
    }


def pm_metadata(pm_id: int, origin: str | None) -> dict[str, Any]:
    return {"pm": pm_id, "origin": origin, "ref": pm_ref(pm_id)}
