"""/ssp listeners: the command, the Ask a service team shortcut, the App Home sections, the job.

Reads and small writes are answered in the acknowledgement itself (`/ssp mine` and `/ssp queue`
are one indexed query each; see `bench/ack.py`); posting the intake message, DMs and updates
happen afterwards on the worker pool (`notify.py`). Modals open during the ack phase, while the
trigger is valid. Buttons and modal submissions are in `interactions.py`.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.common import views as cv
from bot.common.errors import UserError
from bot.common.slack import guarded
from bot.context import AppContext
from bot.jobs import Job
from bot.people import service as people
from bot.requests import faq, interactions, modals, notices, notify, queries, service, views, watcher
from bot.requests import parse as p
from bot.teams import service as teams

log = logging.getLogger(__name__)


def _tz(ctx: AppContext, user_id: str) -> str:
    with ctx.db.session() as s:
        person = people.get(db_session=s, slack_id=user_id)
    return person.tz if person and person.tz else "UTC"


def _resolve_user(ctx: AppContext, request: p.Triage) -> str:
    if request.user_id:
        return request.user_id
    with ctx.db.session() as s:
        matches = people.find_by_name(db_session=s, name=request.user_name or "")
    if not matches:
        raise UserError(f"I don't know anyone called `@{request.user_name}`.", hint="Mention them: `@name`.")
    if len(matches) > 1:
        raise UserError(
            f"`@{request.user_name}` could be " + ", ".join(f"<@{m.slack_id}>" for m in matches[:10])
        )
    return matches[0].slack_id


def triage(ctx: AppContext, user_id: str, request: p.Triage) -> service.Change:
    """One triage verb through the service, in its own transaction."""
    now = ctx.clock.now()
    admin = ctx.is_admin(user_id)
    common = {"request_id": request.request_id, "actor_id": user_id, "is_admin": admin, "now": now}
    with ctx.db.session() as s:
        if request.verb == "claim":
            return service.claim(db_session=s, **common)
        if request.verb == "assign":
            return service.assign(db_session=s, assignee_id=_resolve_user(ctx, request), **common)
        if request.verb == "comment":
            return service.comment(db_session=s, text=request.text, **common)
        if request.verb == "wait":
            return service.wait(db_session=s, note=request.text, **common)
        if request.verb == "resolve":
            return service.resolve(db_session=s, note=request.text, **common)
        if request.verb == "reopen":
            return service.reopen(db_session=s, note=request.text, **common)
        if request.verb == "rate":
            return service.rate(db_session=s, rating=request.rating or 0, **common)
    raise UserError("I don't understand that.", hint="`/ssp help` lists every form.")


def quick_request(
    ctx: AppContext, client: WebClient, user_id: str, request: p.QuickRequest
) -> dict[str, Any]:
    """`/ssp request <team> <summary>`: the closest answers first when there are any, else file it."""
    now = ctx.clock.now()
    tz = _tz(ctx, user_id)
    with ctx.db.session() as s:
        team = teams.find_service(db_session=s, name=request.team)
        found = faq.suggest(
            db_session=s, team=team, text=request.summary, user_id=user_id, is_admin=ctx.is_admin(user_id)
        )
        if found:
            offer = faq.offer(
                db_session=s,
                team=team,
                user_id=user_id,
                summary=request.summary,
                urgency=request.urgency,
                now=now,
            )
            return views.suggestions_message(team, offer, found)
        change = service.create(
            db_session=s,
            team=team,
            requester_id=user_id,
            summary=request.summary,
            urgency=request.urgency,
            now=now,
        )
    notify.submit(ctx, client, change)
    return views.created_message(change.request, change.team, tz)


def answer(ctx: AppContext, client: WebClient, user_id: str, parsed: p.Parsed) -> dict[str, Any]:
    """The reply to a parsed `/ssp` (anything but the modal)."""
    now = ctx.clock.now()
    admin = ctx.is_admin(user_id)
    if isinstance(parsed, p.Help):
        return views.help_message()
    if isinstance(parsed, p.Catalogue):
        with ctx.db.session() as s:
            return views.catalogue_message(queries.catalogue(db_session=s))
    if isinstance(parsed, p.Mine):  # the hot path: one statement
        with ctx.db.session() as s:
            tz, rows = queries.mine_with_zone(db_session=s, user_id=user_id)
        return views.mine_message(rows, now, tz)
    if isinstance(parsed, p.QueueOf):  # the hot path: one statement for your own queue
        with ctx.db.session() as s:
            me, q = queries.my_queue(db_session=s, user_id=user_id) if not parsed.team else (None, None)
            if q is None:
                team_list = queries.queue_teams(
                    db_session=s, user_id=user_id, is_admin=admin, team_name=parsed.team
                )
                q = queries.queue(db_session=s, team_list=team_list)
        return views.queue_message(q, now, me.tz if me else _tz(ctx, user_id))
    if isinstance(parsed, p.Show):
        with ctx.db.session() as s:
            detail = queries.status(
                db_session=s, request_id=parsed.request_id, user_id=user_id, is_admin=admin, now=now
            )
        return views.detail_message(detail, now, _tz(ctx, user_id), viewer=user_id)
    if isinstance(parsed, p.Stats):
        with ctx.db.session() as s:
            if parsed.team:
                result = [
                    queries.stats(
                        db_session=s, team=teams.find_service(db_session=s, name=parsed.team), now=now
                    )
                ]
            else:
                result = queries.all_stats(db_session=s, now=now)
        return views.stats_message(result)
    if isinstance(parsed, p.FaqList):
        with ctx.db.session() as s:
            if not parsed.team:
                return views.faq_index_message(queries.catalogue(db_session=s))
            team = teams.find_service(db_session=s, name=parsed.team)
            return views.faq_message(team, faq.list_faq(db_session=s, team=team))
    if isinstance(parsed, p.FaqAdd):
        with ctx.db.session() as s:
            team = teams.find_service(db_session=s, name=parsed.team)
            entry, created = faq.add_faq(
                db_session=s,
                team=team,
                actor_id=user_id,
                is_admin=admin,
                question=parsed.question,
                answer=parsed.answer,
            )
        return views.faq_added(team, entry, created)
    if isinstance(parsed, p.QuickRequest):
        return quick_request(ctx, client, user_id, parsed)
    if isinstance(parsed, p.Triage):
        change = triage(ctx, user_id, parsed)
        notify.submit(ctx, client, change)
        with ctx.db.session() as s:
            detail = queries.status(
                db_session=s, request_id=parsed.request_id, user_id=user_id, is_admin=admin, now=now
            )
        done = notices.done_text(change)
        message = views.detail_message(detail, now, _tz(ctx, user_id), viewer=user_id)
        message["blocks"].insert(0, cv.section(f":white_check_mark: {done}"))
        return message
    raise UserError("I don't understand that.", hint="`/ssp help` lists every form.")


def open_request_modal(
    ctx: AppContext,
    client: WebClient,
    *,
    trigger_id: str,
    user_id: str,
    team_name: str | None = None,
    summary: str = "",
    details: str = "",
    source_link: str | None = None,
    source_note: str | None = None,
    channel_id: str | None = None,
) -> None:
    with ctx.db.session() as s:
        selected = teams.find_service(db_session=s, name=team_name) if team_name else None
        team_list = teams.service_teams(db_session=s)
    view = modals.request_modal(
        teams=team_list,
        selected=selected,
        summary=summary,
        details=details,
        source_note=source_note,
        metadata={"channel": channel_id, "source": source_link},
    )
    client.views_open(trigger_id=trigger_id, view=view)


def _permalink(body: dict[str, Any]) -> str | None:
    """A message's permalink from the shortcut's payload (workspace domain, channel, ts): no API call."""
    domain = (body.get("team") or {}).get("domain")
    channel = (body.get("channel") or {}).get("id")
    message = body.get("message") or {}
    ts = str(message.get("ts") or body.get("message_ts") or "")
    if not (domain and channel and ts):
        return None
    link = f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
    if message.get("thread_ts") and message.get("thread_ts") != ts:
        link += f"?thread_ts={message['thread_ts']}&cid={channel}"
    return link


def home_mine(ctx: AppContext, user_id: str) -> list[dict[str, Any]]:
    with ctx.db.session() as s:
        tz, rows = queries.mine_with_zone(db_session=s, user_id=user_id)
    return views.home_mine(rows, ctx.clock.now(), tz)


def home_queue(ctx: AppContext, user_id: str) -> list[dict[str, Any]]:
    with ctx.db.session() as s:
        me, q = queries.my_queue(db_session=s, user_id=user_id, limit=5)
    return views.home_queue(q, ctx.clock.now(), me.tz) if q is not None else []


def register(app: App, ctx: AppContext) -> None:
    ctx.add_home_section(20, home_mine)
    ctx.add_home_section(40, home_queue)
    ctx.add_job(Job("ssp-sla-watcher", watcher.EVERY, watcher.run))

    @guarded
    def on_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        user_id = command["user_id"]
        parsed = p.parse(command.get("text"))
        if isinstance(parsed, p.RequestModal):
            open_request_modal(
                ctx,
                client,
                trigger_id=command["trigger_id"],
                user_id=user_id,
                team_name=parsed.team,
                channel_id=command.get("channel_id"),
            )
            ack()
            return
        ack(**answer(ctx, client, user_id, parsed))

    app.command("/ssp")(on_command)

    @guarded
    def on_shortcut(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Ask a service team: the message becomes a prefilled request that links back to it."""
        message = body.get("message") or {}
        text = str(message.get("text") or "").strip()
        author = message.get("user")
        first_line = text.split("\n", 1)[0][:200]
        link = _permalink(body)
        note = (
            "From "
            + (f"<@{author}>'s message" if author else "a message")
            + (f" · <{link}|view it>" if link else "")
        )
        open_request_modal(
            ctx,
            client,
            trigger_id=body["trigger_id"],
            user_id=body["user"]["id"],
            summary=first_line,
            details=text[:3000],
            source_link=link,
            source_note=note,
            channel_id=(body.get("channel") or {}).get("id"),
        )
        ack()

    app.shortcut("ask_service_team")(on_shortcut)
    interactions.register(app, ctx, open_request_modal=open_request_modal)
