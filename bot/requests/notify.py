"""What the bot posts after a change, off the acknowledgement's path (on `ctx.executor`).

The intake post in the team's channel is posted once and then updated in place (`chat.update`);
the requester gets a DM on every change someone else makes; a new assignee is told; a resolved
request asks its requester for a 1–5 rating. Only people who may see a request are ever sent it:
the requester, the team (its channel, its lead, its assignee), never anyone else.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.context import AppContext
from bot.people import service as people
from bot.requests import notices, service, views
from bot.requests.watcher import Announcement
from bot.teams import service as teams
from storage.models.requests import ServiceRequest

log = logging.getLogger(__name__)


def tz_of(ctx: AppContext, user_id: str | None) -> str:
    if not user_id:
        return "UTC"
    with ctx.db.session() as s:
        person = people.get(db_session=s, slack_id=user_id)
    return person.tz if person and person.tz else "UTC"


def _dm(client: Any, user_id: str | None, payload: dict[str, Any]) -> None:
    if not user_id or user_id == service.WATCHER:
        return
    try:
        client.chat_postMessage(channel=user_id, text=payload["text"], blocks=payload.get("blocks"))
    except Exception:
        log.exception("could not DM %s", user_id)


def refresh_intake(ctx: AppContext, client: Any, request_id: int) -> None:
    """Post the intake message (first time) or update it in place."""
    with ctx.db.session() as s:
        req = s.get(ServiceRequest, request_id)
        team = teams.get(db_session=s, team_id=req.team_id) if req is not None else None
    if req is None or team is None or not team.channel_id:
        return
    payload = notices.intake_message(req, team, ctx.clock.now())
    try:
        if req.intake_channel and req.intake_ts:
            client.chat_update(channel=req.intake_channel, ts=req.intake_ts, **payload)
            return
        posted = client.chat_postMessage(channel=team.channel_id, **payload)
    except Exception:
        log.exception("could not post or update the intake message of %s", service.ref(request_id))
        return
    with ctx.db.session() as s:
        service.set_intake(
            db_session=s, request_id=request_id, channel=str(posted["channel"]), ts=str(posted["ts"])
        )


def after_change(
    ctx: AppContext, client: Any, change: service.Change, *, confirm_to: str | None = None
) -> None:
    """Everything a change owes people; `confirm_to` also sends the requester the filing receipt
    (when it was filed from a modal, where no ephemeral answer was shown)."""
    req = change.request
    refresh_intake(ctx, client, req.id or 0)
    if confirm_to:
        _dm(client, confirm_to, views.created_message(req, change.team, tz_of(ctx, confirm_to)))
    if change.event.kind != "created" and change.actor_id != req.requester_id:
        _dm(client, req.requester_id, notices.change_dm(change))
    if change.notify_assignee and change.notify_assignee != req.requester_id:
        _dm(client, change.notify_assignee, notices.assigned_dm(change))
    if change.ask_rating and req.requester_id != change.actor_id:
        _dm(client, req.requester_id, notices.rating_dm(req, change.team))


def submit(ctx: AppContext, client: Any, change: service.Change, **kwargs: Any) -> None:
    """Run `after_change` on the worker pool, so the acknowledgement is not held up."""

    def work() -> None:
        try:
            after_change(ctx, client, change, **kwargs)
        except Exception:
            log.exception("notifications for %s failed", change.ref)

    ctx.executor.submit(work)


def announce(ctx: AppContext, client: Any, a: Announcement) -> None:
    """Post one watcher announcement (already claimed)."""
    req, team = a.request, a.team
    if a.step == "warning":
        target = req.assignee_id or team.lead_id
        _dm(client, target, notices.warning_dm(req, team, a.clock, a.due, tz_of(ctx, target)))
    elif a.step == "breach":
        hours = teams.slas_of(team).hours
        if team.channel_id:
            message = notices.breach_message(req, team, a.clock, a.due, hours.tz_name if hours else "UTC")
            client.chat_postMessage(channel=team.channel_id, **message)
        _dm(client, team.lead_id, notices.breach_message(req, team, a.clock, a.due, tz_of(ctx, team.lead_id)))
    elif a.step == "closed":
        _dm(client, req.requester_id, notices.closed_dm(req))
    refresh_intake(ctx, client, req.id or 0)
