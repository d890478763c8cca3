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
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError

from bot.common import delivery
from bot.common import views as common_views
from bot.common.errors import UserError
from bot.common.slack import SORRY, guarded
from bot.context import AppContext
from bot.jobs import Job
from bot.llm import Deadline, LLMError
from bot.people import service as people
from bot.postmortems import (
    blameless,
    channel,
    drafting,
    items,
    modals,
    model,
    reminders,
    service,
    slack_modals,
    views,
    workflow,
)
from bot.postmortems import parse as p
from bot.postmortems.actions import Action
from bot.postmortems.rules import Status, from_slack, parse_due, parse_kind
from bot.postmortems.viewer import refresh_home, show_message, today_for, viewer_tz
from storage.models.postmortems import Postmortem

log = logging.getLogger(__name__)

DRAFT_DEADLINE_SECONDS = 20.0
CHECK_DEADLINE_SECONDS = 10.0
PIN_REACTIONS = {"pushpin", "round_pushpin"}


# ---- viewer context ----------------------------------------------------------------------------


def labels_for(d: service.Detail, tz: ZoneInfo) -> dict[str, str]:
    """Where a finding is, as a person reads it: a field label, "Timeline 14:05", "AI-3"."""
    from bot.postmortems.rules import FIELDS

    labels = {f.key: f.label for f in FIELDS}
    labels.update({f"timeline:{e.id}": f"Timeline {views.when(e.at, tz)}" for e in d.timeline})
    labels.update({f"action:{a.id}": f"Action item {service.ai_ref(a.id)}" for a in d.actions})
    return labels


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


# ---- slow work ----------------------------------------------------------------------------------


def _reply(
    client: WebClient,
    respond: Respond | None,
    user_id: str,
    payload: dict[str, Any],
    *,
    replace: bool = False,
) -> None:
    """Through response_url when there is one (ephemeral where it was asked), else a DM."""
    try:
        if respond is not None:
            respond(**payload, replace_original=replace)
        else:
            body = {k: v for k, v in payload.items() if k in ("text", "blocks")}
            client.chat_postMessage(channel=user_id, **body)
    except Exception:
        log.exception("could not answer %s", user_id)


def draft(ctx: AppContext, client: WebClient, *, user_id: str, channel_id: str) -> dict[str, Any]:
    """`/postmortem draft`: read the channel (every page), draft or grow its postmortem."""
    if not channel_id or channel_id.startswith("D"):
        raise UserError("Run `/postmortem draft` in the incident channel: its messages become the timeline.")
    raw = channel.history(client, channel_id)
    entries = drafting.timeline_from(
        raw,
        channel_id=channel_id,
        workspace_url=channel.workspace_url(client),
        bot_user_id=channel.bot_user_id(client),
    )
    if not entries:
        raise UserError("There is nothing to draft from yet: this channel has no messages from people.")
    name = channel.channel_name(client, channel_id)
    with ctx.db.session() as s:
        linked = service.linked_to_channel(db_session=s, channel_id=channel_id)
    summary, factors, used, mode, note = "", [], "", "offline", ""
    if linked:
        mode = "kept"
    elif ctx.llm is not None:
        try:
            with ctx.db.session() as s:
                names = {
                    u: people.display(pp, u)
                    for u, pp in people.get_many(db_session=s, slack_ids=drafting.speakers(entries)).items()
                }
            result = model.draft(
                ctx.llm,
                channel_name=name,
                entries=entries,
                names=names,
                deadline=Deadline.after(DRAFT_DEADLINE_SECONDS),
            )
            summary, factors, used, mode = result.summary, result.contributing_factors, result.model, "model"
        except LLMError as err:
            log.warning("postmortem draft for %s falls back to the timeline alone: %s", channel_id, err)
            mode = "fallback"
        except Exception:
            log.exception("model draft for %s failed", channel_id)
            mode = "fallback"
    try:
        with ctx.db.session() as s:
            drafted = items.draft_from_channel(
                db_session=s,
                actor_id=user_id,
                channel_id=channel_id,
                channel_name=name,
                entries=entries,
                summary=summary,
                contributing_factors=factors,
                drafted_with=used,
                now=ctx.clock.now(),
            )
    except IntegrityError:  # a concurrent draft of the same channel won; show that one
        with ctx.db.session() as s:
            linked = service.linked_to_channel(db_session=s, channel_id=channel_id)
            if not linked:
                raise
            drafted = items.Drafted(pm=linked[0], added=0, created=False)
        mode = "kept"
    tz = viewer_tz(ctx, user_id)
    with ctx.db.session() as s:
        d = service.detail(db_session=s, postmortem_id=drafted.pm.id or 0)
        if mode == "model":
            found = workflow.findings_for(db_session=s, d=d)
            note = f"The blameless check already sees {len(found)} passage(s) to rephrase." if found else ""
    return views.drafted_message(
        d, added=drafted.added, created=drafted.created, mode=mode, tz=tz, today=today_for(ctx, tz), note=note
    )


def model_findings(ctx: AppContext, d: service.Detail) -> list[blameless.Finding]:
    """The model's extra findings, or none when there is no model or it fails (the rules still ran)."""
    if ctx.llm is None:
        return []
    try:
        return model.blame_findings(
            ctx.llm, fields=workflow.checked_texts(d), deadline=Deadline.after(CHECK_DEADLINE_SECONDS)
        )
    except LLMError as err:
        log.warning("model blame check of %s skipped: %s", d.ref, err)
    except Exception:
        log.exception("model blame check of %s failed", d.ref)
    return []


def check(ctx: AppContext, user_id: str, postmortem_id: int) -> dict[str, Any]:
    tz = viewer_tz(ctx, user_id)
    with ctx.db.session() as s:
        d = service.detail(db_session=s, postmortem_id=postmortem_id)
        found = workflow.findings_for(db_session=s, d=d)
    extra = [f for f in model_findings(ctx, d) if all(workflow._disjoint(f, g) for g in found)]
    return views.findings_message(d, found + extra, labels_for(d, tz), target=None)


def announce(ctx: AppContext, client: WebClient, postmortem_id: int) -> str | None:
    """Post the published postmortem in FLYWHEEL_POSTMORTEM_CHANNEL, once (claimed first)."""
    target = ctx.settings.flywheel_postmortem_channel
    if not target:
        return None
    key = f"pm:announce:{service.pm_ref(postmortem_id)}"
    with ctx.db.session() as s:
        if not delivery.claim(db_session=s, key=key, kind="pm_announce", detail=target):
            return target
        d = service.detail(db_session=s, postmortem_id=postmortem_id)
    payload = views.announcement(d, today=today_for(ctx, ctx.settings.tz))
    body = {k: v for k, v in payload.items() if k in ("text", "blocks")}
    status = "sent"
    try:
        try:
            client.chat_postMessage(channel=target, **body)
        except SlackApiError as err:
            if err.response.get("error") != "not_in_channel":
                raise
            client.conversations_join(channel=target)
            client.chat_postMessage(channel=target, **body)
    except Exception:
        log.exception("could not announce %s in %s", d.ref, target)
        status = "failed"
    with ctx.db.session() as s:
        delivery.mark(db_session=s, key=key, status=status)
    return target if status == "sent" else None


def move(
    ctx: AppContext, client: WebClient, *, user_id: str, postmortem_id: int, target: Status, confirmed: bool
) -> dict[str, Any]:
    """Send for review or publish: the findings first (unless confirmed), then the move and its news."""
    tz = viewer_tz(ctx, user_id)
    is_admin = ctx.is_admin(user_id)
    extra: list[blameless.Finding] = []
    if not confirmed and ctx.llm is not None:
        with ctx.db.session() as s:
            d = service.detail(db_session=s, postmortem_id=postmortem_id)
            service.require_edit(db_session=s, pm=d.pm, actor_id=user_id, is_admin=is_admin, doing="move")
        extra = model_findings(ctx, d)
    step = workflow.request_review if target == Status.IN_REVIEW else workflow.publish
    with ctx.db.session() as s:
        result = step(
            db_session=s,
            actor_id=user_id,
            is_admin=is_admin,
            postmortem_id=postmortem_id,
            confirmed=confirmed,
            extra_findings=extra,
            now=ctx.clock.now(),
        )
        d = service.detail(db_session=s, postmortem_id=postmortem_id)
    if not result.done:
        return views.findings_message(d, result.findings, labels_for(d, tz), target=target)
    announced = announce(ctx, client, postmortem_id) if target == Status.PUBLISHED else None
    return views.moved_message(result.pm, target, announced_in=announced, warned=len(result.findings))


def _safely(fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        return fn(*args, **kwargs)
    except UserError as err:
        return common_views.error_message(str(err))
    except Exception:
        log.exception("%s failed", getattr(fn, "__name__", fn))
        return common_views.error_message(SORRY)


# ---- pushpin ------------------------------------------------------------------------------------


def on_pin(ctx: AppContext, client: WebClient, event: dict[str, Any]) -> None:
    """A :pushpin: on a message in a linked channel: the message joins the timeline, at its post time."""
    item = event.get("item") or {}
    channel_id, ts, user_id = (
        str(item.get("channel") or ""),
        str(item.get("ts") or ""),
        str(event.get("user") or ""),
    )
    with ctx.db.session() as s:
        if not service.linked_to_channel(db_session=s, channel_id=channel_id):
            return
    found = channel.message(client, channel_id, ts)
    if found is None:
        return
    text = from_slack(str(found.get("text") or "")).strip() or (
        "[shared a file]" if found.get("files") else ""
    )
    if not text:
        return
    link = drafting.permalink(channel.workspace_url(client), channel_id, ts)
    if found.get("thread_ts") and found.get("thread_ts") != ts:
        link += f"?thread_ts={found['thread_ts']}&cid={channel_id}"
    try:
        with ctx.db.session() as s:
            added = items.add_pinned_message(
                db_session=s,
                actor_id=user_id,
                channel_id=channel_id,
                ts=ts,
                text=text[:3000],
                posted_by=found.get("user"),
                link=link,
            )
    except IntegrityError:  # the same message pinned twice at once: the other one added it
        return
    if added and user_id:
        try:
            client.chat_postEphemeral(
                channel=channel_id, user=user_id, **views.pinned_message(added, viewer_tz(ctx, user_id))
            )
        except SlackApiError:
            log.info("could not confirm the pin to %s", user_id)


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
            payload = _safely(draft, ctx, client, user_id=user_id, channel_id=channel_id)
        elif isinstance(request, p.Check):
            payload = _safely(check, ctx, user_id, request.postmortem_id)
        else:
            target = Status.IN_REVIEW if isinstance(request, p.Review) else Status.PUBLISHED
            payload = _safely(
                move,
                ctx,
                client,
                user_id=user_id,
                postmortem_id=request.postmortem_id,
                target=target,
                confirmed=False,
            )
        _reply(client, respond, user_id, payload, replace=True)

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
        _reply(client, _respond_of(body, respond), user_id, payload)

    app.action(Action.OPEN.pattern())(ack=ack_only, lazy=[open_work])

    def check_work(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        user_id = body["user"]["id"]
        _reply(client, _respond_of(body, respond), user_id, _safely(check, ctx, user_id, _pm_of(body)))

    app.action(Action.CHECK.pattern())(ack=ack_only, lazy=[check_work])

    def mover(target: Status, confirmed: bool) -> Any:
        def work(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
            user_id = body["user"]["id"]
            payload = _safely(
                move,
                ctx,
                client,
                user_id=user_id,
                postmortem_id=_pm_of(body),
                target=target,
                confirmed=confirmed,
            )
            _reply(client, _respond_of(body, respond), user_id, payload, replace=confirmed)

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
                _reply(client, None, user_id, payload)
            return
        _reply(client, _respond_of(body, respond), user_id, payload)

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
        on_pin(ctx, client, event)
    except Exception:
        log.exception("pinning to the timeline failed")


__all__ = ["register", "Postmortem", "modals"]
