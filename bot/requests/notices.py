"""Block Kit for what /ssp posts on its own: the intake post in the team's channel, the DMs
about a change, the rating prompt, and the SLA watcher's warnings and breaches. Pure functions →
dicts; the small pieces (badges, times, lines) come from `views.py`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.common import views
from bot.requests import service
from bot.requests.actions import Action
from bot.requests.views import URGENCY_ICON, due_part, esc, open_button, status_badge, when
from bot.teams import service as teams
from storage.models import Team
from storage.models.requests import ServiceRequest

Block = views.Block

# ---- the intake post -------------------------------------------------------------------------


def intake_message(req: ServiceRequest, team: Team, now: datetime) -> dict[str, Any]:
    """The request as posted in the team's intake channel, updated in place on every change."""
    tz = teams.slas_of(team).hours.tz_name if teams.slas_of(team).hours else "UTC"
    rid = req.id or 0
    head = (
        f"*`{service.ref(rid)}` {esc(req.summary[:500])}*\n"
        f"from <@{req.requester_id}> · {status_badge(req.status)} · "
        + (f"assigned to <@{req.assignee_id}>" if req.assignee_id else "unassigned")
        + (f" · {URGENCY_ICON[req.urgency]}" if URGENCY_ICON.get(req.urgency) else "")
    )
    blocks: list[Block] = [views.section(head)]
    if req.details:
        blocks.append(views.section(esc(req.details[:1500]) + ("…" if len(req.details) > 1500 else "")))
    facts = [f"filed {when(req.created_at, tz)}"]
    due = due_part(req, now, tz)
    if due:
        facts.append(due)
    if req.first_response_breached or req.resolution_breached:
        facts.append(":rotating_light: SLA breached")
    if req.rating is not None:
        facts.append(f"rated {req.rating}/5")
    if req.source_link:
        facts.append(f"<{req.source_link}|original message>")
    blocks.append(views.context(" · ".join(facts)))
    if req.status in service.OPEN:
        blocks.append(
            views.actions(
                views.button("Claim", Action.CLAIM.for_id(rid), str(rid), style="primary"),
                views.button("Assign", Action.ASSIGN.for_id(rid), str(rid)),
                views.button("Resolve", Action.RESOLVE.for_id(rid), str(rid)),
            )
        )
    else:
        blocks.append(views.actions(views.button("Reopen", Action.REOPEN.for_id(rid), str(rid))))
    state = service.status_label(req.status)
    text = f"{service.ref(rid)} from {req.requester_id}: {req.summary[:200]} ({state})"
    return {"text": text, "blocks": blocks}


# ---- DMs ----------------------------------------------------------------------------------------


def change_text(change: service.Change) -> str:
    """One line for the requester about what just happened to their request."""
    e, req = change.event, change.request
    who = f"<@{change.actor_id}>"
    ref = f"`{service.ref(req.id)}`"
    if e.kind == "assigned":
        if e.detail == change.actor_id:
            return f"{who} claimed {ref} — it is now {service.status_label(req.status)}."
        return f"{who} assigned {ref} to <@{e.detail}> — it is now {service.status_label(req.status)}."
    if e.kind == "comment":
        return f"{who} commented on {ref}: {esc(e.detail[:1500])}"
    if e.kind == "status":
        note = f": {esc(e.detail[:1500])}" if e.detail else ""
        if e.to_status == "waiting":
            return (
                f"{who} needs something from you on {ref}{note}\nAnswer with "
                f"`/ssp comment {service.ref(req.id)} &lt;text&gt;` — the SLA clock is paused until you do."
            )
        return f"{who} moved {ref} to *{service.status_label(e.to_status or '')}*{note}"
    if e.kind == "rating":
        return f"{ref} was rated {e.detail}/5."
    return f"{ref} changed ({e.kind})."


def done_text(change: service.Change) -> str:
    """The confirmation for the person who made the change."""
    req, e = change.request, change.event
    ref = f"`{service.ref(req.id)}`"
    if e.kind == "assigned":
        return f"{ref} is assigned to <@{e.detail}> and {service.status_label(req.status)}."
    if e.kind == "comment":
        resumed = (
            " It waited on the requester, so it is in progress again." if change.extra.get("resumed") else ""
        )
        return f"Comment added to {ref}.{resumed}"
    if e.kind == "rating":
        return f"You rated {ref} {e.detail}/5."
    if e.to_status == "waiting":
        return f"{ref} now waits on <@{req.requester_id}>; its resolution clock is paused until they comment."
    return f"{ref} is now *{service.status_label(req.status)}*."


def change_dm(change: service.Change) -> dict[str, Any]:
    req, team = change.request, change.team
    text = change_text(change)
    blocks = [
        views.section(text),
        views.context(f"{esc(team.name)} · {esc(req.summary[:200])}"),
        views.actions(open_button(req.id or 0)),
    ]
    return {"text": text, "blocks": blocks}


def rating_dm(req: ServiceRequest, team: Team) -> dict[str, Any]:
    rid = req.id or 0
    text = f"`{service.ref(rid)}` is resolved. How did {team.name} do? Rate it from 1 (poor) to 5 (great)."
    buttons = [views.button(str(n), Action.RATE.for_id(f"{rid}:{n}"), f"{rid}:{n}") for n in range(1, 6)]
    return {
        "text": text,
        "blocks": [
            views.section(f":star: {esc(text)}"),
            views.context(esc(req.summary[:200])),
            views.actions(*buttons),
            views.actions(views.button("Not fixed — reopen", Action.REOPEN.for_id(rid), str(rid))),
        ],
    }


def rated_message(req: ServiceRequest) -> dict[str, Any]:
    text = f"Thanks — you rated `{service.ref(req.id)}` {req.rating}/5. It is now closed."
    return {"text": text, "blocks": [views.section(":pray: " + text)]}


def assigned_dm(change: service.Change) -> dict[str, Any]:
    req = change.request
    text = f"<@{change.actor_id}> assigned `{service.ref(req.id)}` to you: {esc(req.summary[:300])}"
    return {"text": text, "blocks": [views.section(text, accessory=open_button(req.id or 0))]}


def warning_dm(req: ServiceRequest, team: Team, clock: str, due: datetime, tz: str) -> dict[str, Any]:
    what = "first response" if clock == "first_response" else "resolution"
    text = (
        f":hourglass_flowing_sand: `{service.ref(req.id)}` has used 80% of its {what} SLA "
        f"({esc(team.name)}): due {when(due, tz)}. {esc(req.summary[:200])}"
    )
    return {"text": text, "blocks": [views.section(text, accessory=open_button(req.id or 0))]}


def breach_message(req: ServiceRequest, team: Team, clock: str, due: datetime, tz: str) -> dict[str, Any]:
    what = "first-response" if clock == "first_response" else "resolution"
    who = f"<@{req.assignee_id}>" if req.assignee_id else "nobody yet"
    text = (
        f":rotating_light: `{service.ref(req.id)}` breached its {what} SLA (due {when(due, tz)}). "
        f"Assigned to {who}. {esc(req.summary[:200])}"
    )
    return {"text": text, "blocks": [views.section(text, accessory=open_button(req.id or 0))]}


def closed_dm(req: ServiceRequest) -> dict[str, Any]:
    ref = service.ref(req.id)
    text = f"`{ref}` was closed after a week resolved. Reopen it with `/ssp reopen {ref}`."
    return {"text": text, "blocks": [views.section(text)]}
