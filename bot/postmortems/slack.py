"""/postmortem listeners: the command, the buttons, :pushpin:, the App Home section and the reminder job.

Cheap answers (list, show, search, action, done, the modals) are given in the acknowledgement.
Slow work — reading a channel's history, a model call, the blameless check before a move with a
model — is acknowledged with a "working on it" line and done in a Bolt lazy listener. Modals are
opened in the ack phase while the 3-second trigger_id is valid. The service decides everything;
this module parses, calls it and renders.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.common import views as common_views
from bot.common.errors import UserError
from bot.common.slack import SORRY, guarded
from bot.context import AppContext
from bot.jobs import Job
from bot.people import service as people
from bot.postmortems import (
    flows,
    items,
    reminders,
    service,
    slack_modals,
    views,
)
from bot.postmortems import parse as p
from bot.postmortems.actions import Action
from bot.postmortems.rules import Status, from_slack, parse_due, parse_kind
from bot.postmortems.viewer import refresh_home, show_message, today_for, viewer_tz

log = logging.getLogger(__name__)

PIN_REACTIONS = {"pushpin", "round_pushpin"}


# ---- viewer context ----------------------------------------------------------------------------


def _resolve_owner(ctx: AppContext, owner: p.Owner | None) -> str:
    if owner is None:
        raise UserError(f"Who owns it? {p.USAGE['action']}")
    if owner.user_id:
        return owner.user_id
    with ctx.db.session() as s:
        matches = people.find_by_name(db_session=s, name=owner.name or "")
    if not matches:
        raise UserError(f"I don't know anyone called `@{owner.name}`.", hint="Mention them: `owner:@name`.")
    if len(matches) > 1:
        names = ", ".join(f"<@{m.slack_id}>" for m in matches[:10])
        raise UserError(f"`@{owner.name}` could be {names} — mention the one you mean.")
    return matches[0].slack_id


def _split_due(words: list[str], ctx: AppContext, tz: ZoneInfo) -> tuple[date, list[str]]:
    """The longest leading run of `due:` words that reads as a date; the rest belongs to the title."""
    now_local = ctx.clock.now().astimezone(tz)
    today = now_local.date()
    error: UserError | None = None
    for n in range(min(len(words), 4), 0, -1):
        try:
            return parse_due(" ".join(words[:n]), today=today, now_local=now_local), words[n:]
        except UserError as err:
            if n == 1 or error is None:
                error = err
    raise error or UserError(f"When is it due? {p.USAGE['action']}")


# ---- answers ------------------------------------------------------------------------------------


def answer(ctx: AppContext, user_id: str, channel_id: str | None, request: p.Request) -> dict[str, Any]:
    """The reply to a quick `/postmortem` form, given in the acknowledgement."""
    is_admin = ctx.is_admin(user_id)
    if isinstance(request, p.Help):
        return views.help_message()
    if isinstance(request, p.Show):
        return show_message(ctx, user_id, request.postmortem_id)
    if isinstance(request, p.ListPostmortems):
        with ctx.db.session() as s:
            rows, total = service.list_postmortems(db_session=s, status=request.status)
        return views.list_message(rows, total, request.status)
    if isinstance(request, p.Search):
        from bot.postmortems import search

        with ctx.db.session() as s:
            hits, total = search.search(db_session=s, words=request.words)
        return views.search_message(request.words, hits, total)
    if isinstance(request, p.QuickNew):
        with ctx.db.session() as s:
            pm = service.create(
                db_session=s,
                actor_id=user_id,
                title=from_slack(request.title),
                severity=request.severity,
                channel_id=channel_id,
                now=ctx.clock.now(),
            )
        return views.created_message(pm)
    if isinstance(request, p.AddAction):
        tz = viewer_tz(ctx, user_id)
        with ctx.db.session() as s:
            pm = service.get(db_session=s, postmortem_id=request.postmortem_id)
            service.require_edit(
                db_session=s, pm=pm, actor_id=user_id, is_admin=is_admin, doing="add action items to"
            )
        owner = _resolve_owner(ctx, request.owner)
        due, rest = _split_due(request.due_words, ctx, tz)
        title = from_slack(" ".join([*request.title_words, *rest]))
        kind = parse_kind(request.kind) if request.kind else None
        if not title.strip():
            raise UserError(f"What is the action item? {p.USAGE['action']}")
        with ctx.db.session() as s:
            item = items.add_action_item(
                db_session=s,
                actor_id=user_id,
                is_admin=is_admin,
                postmortem_id=request.postmortem_id,
                title=title,
                owner_id=owner,
                due_on=due,
                today=today_for(ctx, tz),
                **({"kind": kind} if kind else {}),
            )
            pm = service.get(db_session=s, postmortem_id=item.postmortem_id)
        return views.action_added(item, pm, today_for(ctx, tz))
    if isinstance(request, p.Done):
        with ctx.db.session() as s:
            item = items.complete_action_item(
                db_session=s, actor_id=user_id, is_admin=is_admin, action_item_id=request.action_item_id
            )
        return views.action_done(item)
    if isinstance(request, p.Actions):
        return actions_answer(ctx, user_id, request)
    raise UserError("I don't understand that.", hint="`/postmortem help` lists every form.")


def actions_answer(ctx: AppContext, user_id: str, request: p.Actions) -> dict[str, Any]:
    tz = viewer_tz(ctx, user_id)
    today = today_for(ctx, tz)
    with ctx.db.session() as s:
        if request.scope == "overdue":
            pairs = service.overdue_action_items(db_session=s, today=today)
            return views.actions_message("Overdue action items", pairs, today, "Nothing is overdue. :tada:")
        if request.scope == "postmortem":
            d = service.detail(db_session=s, postmortem_id=request.postmortem_id or 0)
            pairs = [(a, d.pm) for a in d.actions]
            return views.actions_message(f"Action items of {d.ref}", pairs, today, "No action items yet.")
        owner = user_id if request.scope == "mine" else None
    if owner is None:
        owner = _resolve_owner(ctx, request.owner)
    with ctx.db.session() as s:
        pairs, _ = service.action_items_of(db_session=s, owner_id=owner, include_done=False)
    title = "Your open action items" if owner == user_id else f"Open action items of <@{owner}>"
    return views.actions_message(title, pairs, today, "No open action items.")


def _safely(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        return fn(*args, **kwargs)
    except UserError as err:
        return common_views.error_message(str(err))
    except Exception:
        log.exception("%s failed", getattr(fn, "__name__", fn))
        return common_views.error_message(SORRY)


# ---- App Home and the reminder job --------------------------------------------------------------


def home_section(ctx: AppContext, user_id: str) -> list[dict[str, Any]]:
    tz = viewer_tz(ctx, user_id)
    with ctx.db.session() as s:
        pairs, total = service.action_items_of(db_session=s, owner_id=user_id, limit=views.HOME_ITEMS)
        mine = service.postmortems_of(db_session=s, slack_id=user_id)
    return views.home_section(pairs, total, today_for(ctx, tz), mine)


# ---- registration -------------------------------------------------------------------------------

SLOW = (p.Draft, p.Review, p.Publish, p.Check)


def register(app: App, ctx: AppContext) -> None:
    ctx.add_home_section(30, home_section)
    ctx.add_job(Job("postmortem-action-reminders", timedelta(hours=1), reminders.run))

    @guarded
    def command_ack(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        request = p.parse(command.get("text"))
        user_id, channel_id = command["user_id"], command.get("channel_id")
        if isinstance(request, p.NewModal):
            slack_modals.open_template(
                ctx,
                client,
                trigger_id=command["trigger_id"],
                user_id=user_id,
                postmortem_id=None,
                origin=channel_id,
                channel_id=channel_id,
            )
            ack()
            return
        if isinstance(request, p.Edit):
            slack_modals.open_template(
                ctx,
                client,
                trigger_id=command["trigger_id"],
                user_id=user_id,
                postmortem_id=request.postmortem_id,
                origin=channel_id,
                channel_id=None,
            )
            ack()
            return
        if isinstance(request, p.Draft):
            if not channel_id or channel_id.startswith("D"):
                raise UserError(
                    "Run `/postmortem draft` in the incident channel: its messages become the timeline."
                )
            ack(
                **common_views.message(":hourglass_flowing_sand: Reading this channel to draft a postmortem…")
            )
            return
        if isinstance(request, p.Review | p.Publish | p.Check):
            what = {p.Review: " before review", p.Publish: " before publishing", p.Check: ""}[type(request)]
            ref = service.pm_ref(request.postmortem_id)
            ack(**common_views.message(f":hourglass_flowing_sand: Checking {ref} for blame{what}…"))
            return
        ack(**answer(ctx, user_id, channel_id, request))

    def command_work(command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        try:
            request = p.parse(command.get("text"))
        except UserError:
            return  # the ack already said what was wrong
        if not isinstance(request, SLOW):
            return
        user_id, channel_id = command["user_id"], command.get("channel_id") or ""
        if isinstance(request, p.Draft):
            payload = _safely(flows.draft, ctx, client, user_id=user_id, channel_id=channel_id)
        elif isinstance(request, p.Check):
            payload = _safely(flows.check, ctx, user_id, request.postmortem_id)
        else:
            target = Status.IN_REVIEW if isinstance(request, p.Review) else Status.PUBLISHED
            payload = _safely(
                flows.move,
                ctx,
                client,
                user_id=user_id,
                postmortem_id=request.postmortem_id,
                target=target,
                confirmed=False,
            )
        flows.reply(client, respond, user_id, payload, replace=True)

    app.command("/postmortem")(ack=command_ack, lazy=[command_work])

    # -- buttons that answer after the ack --

    def ack_only(ack: Ack) -> None:
        ack()

    def _pm_of(body: dict[str, Any]) -> int:
        action = body["actions"][0]
        return int(action.get("value") or action["action_id"].split(":")[-1])

    def _respond_of(body: dict[str, Any], respond: Respond) -> Respond | None:
        return respond if body.get("response_url") else None

    def open_work(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        user_id = body["user"]["id"]
        payload = _safely(show_message, ctx, user_id, _pm_of(body))
        flows.reply(client, _respond_of(body, respond), user_id, payload)

    app.action(Action.OPEN.pattern())(ack=ack_only, lazy=[open_work])

    def check_work(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        user_id = body["user"]["id"]
        flows.reply(
            client, _respond_of(body, respond), user_id, _safely(flows.check, ctx, user_id, _pm_of(body))
        )

    app.action(Action.CHECK.pattern())(ack=ack_only, lazy=[check_work])

    def mover(target: Status, confirmed: bool) -> Any:
        def work(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
            user_id = body["user"]["id"]
            payload = _safely(
                flows.move,
                ctx,
                client,
                user_id=user_id,
                postmortem_id=_pm_of(body),
                target=target,
                confirmed=confirmed,
            )
            flows.reply(client, _respond_of(body, respond), user_id, payload, replace=confirmed)

        return work

    app.action(Action.REVIEW.pattern())(ack=ack_only, lazy=[mover(Status.IN_REVIEW, False)])
    app.action(Action.PUBLISH.pattern())(ack=ack_only, lazy=[mover(Status.PUBLISHED, False)])
    app.action(Action.REVIEW_ANYWAY.pattern())(ack=ack_only, lazy=[mover(Status.IN_REVIEW, True)])
    app.action(Action.PUBLISH_ANYWAY.pattern())(ack=ack_only, lazy=[mover(Status.PUBLISHED, True)])

    def done_work(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        user_id = body["user"]["id"]
        ok = False
        try:
            with ctx.db.session() as s:
                item = items.complete_action_item(
                    db_session=s,
                    actor_id=user_id,
                    is_admin=ctx.is_admin(user_id),
                    action_item_id=_pm_of(body),
                )
            payload, ok = views.action_done(item), True
        except UserError as err:
            payload = common_views.error_message(str(err))
        except Exception:
            log.exception("closing an action item failed")
            payload = common_views.error_message(SORRY)
        from_home = (body.get("view") or {}).get("type") == "home"
        if from_home:
            refresh_home(ctx, client, user_id)
            if not ok:
                flows.reply(client, None, user_id, payload)
            return
        flows.reply(client, _respond_of(body, respond), user_id, payload)

    app.action(Action.DONE.pattern())(ack=ack_only, lazy=[done_work])

    slack_modals.register(app, ctx)

    @app.event("reaction_added")
    def _reaction(event: dict[str, Any], client: WebClient) -> None:
        """:pushpin: adds to a linked postmortem's timeline; other reactions are acknowledged and ignored."""
        if event.get("reaction") not in PIN_REACTIONS or (event.get("item") or {}).get("type") != "message":
            return
        ctx.executor.submit(_pin_safely, ctx, client, event)


def _pin_safely(ctx: AppContext, client: WebClient, event: dict[str, Any]) -> None:
    try:
        flows.on_pin(ctx, client, event)
    except Exception:
        log.exception("pinning to the timeline failed")
