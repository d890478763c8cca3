"""The cycle review (复盘) in Slack: `/okr review …`, `/okr carry`, the review modal, and the
periodic job that DMs owners a week before the end and posts the review on the last day.

Every announcement is claimed first (`bot.common.delivery.claim`) in the same transaction that
decides it, committed, then posted: a second run, a restart or a second replica loses the claim
and stays silent — exactly once per owner and cycle, and per channel, cycle and scope.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.common import delivery
from bot.common import views as common_views
from bot.common.errors import UserError
from bot.common.ids import Kind, format_id
from bot.common.slack import guarded
from bot.context import AppContext
from bot.jobs import Job
from bot.okrs import modals, review, review_views, service, views
from bot.okrs import parse as p
from bot.okrs.actions import Action, Callback, Field
from bot.okrs.checks import parse_number
from bot.okrs.notify import notify
from bot.okrs.scoring import Clock, CycleSpan

log = logging.getLogger(__name__)

JOB_NAME = "okr-cycle-review"
JOB_EVERY = timedelta(minutes=10)


# ---- commands --------------------------------------------------------------------------------


def answer(ctx: AppContext, user_id: str, channel_id: str | None, parsed: p.Parsed) -> dict[str, Any]:
    """`/okr review [team]`, `/okr review (un)subscribe [team]`, `/okr carry KR-n`."""
    clock = Clock.of(ctx)
    request = parsed.request
    if isinstance(request, p.ShowReview):
        span = clock.span(parsed.cycle) if parsed.cycle else review.default_cycle(clock)
        with ctx.db.session() as s:
            team = service.find_team(db_session=s, name=request.team) if request.team else None
            result = review.report(db_session=s, clock=clock, cycle_key=span.key, team=team)
        share = "review" + (f" {team.key}" if team else "") + f" cycle:{span.key}"
        return review_views.review_message(result, share_value=share, in_channel=parsed.share)
    if isinstance(request, p.Subscribe):
        if not channel_id:
            raise UserError("Run this in the channel that should get the review.")
        with ctx.db.session() as s:
            team = service.find_team(db_session=s, name=request.team) if request.team else None
            changed = review.subscribe(
                db_session=s, channel_id=channel_id, team=team, actor_id=user_id, clock=clock, on=request.on
            )
            others = [
                (views.esc(t.name) if t else "the company review")
                for _sub, t in review.subscriptions(db_session=s, channel_id=channel_id)
            ]
        return review_views.subscribed(channel_id, team, on=request.on, changed=changed, others=others)
    if isinstance(request, p.CarryOver):
        return carry(ctx, user_id, request.kr_id, in_channel=parsed.share)
    raise UserError("I don't understand that.", hint=f"Usage: {p.USAGE['review']}")


def carry(ctx: AppContext, user_id: str, kr_id: int, *, in_channel: bool = False) -> dict[str, Any]:
    clock = Clock.of(ctx)
    with ctx.db.session() as s:
        new = review.carry_over(
            db_session=s, actor_id=user_id, is_admin=ctx.is_admin(user_id), clock=clock, kr_id=kr_id
        )
        objective = service.get_objective(db_session=s, objective_id=new.objective_id)
        state = service.kr_state_of(s, new, objective, clock)
    return review_views.carried(
        state,
        format_id(Kind.KEY_RESULT, kr_id),
        format_id(Kind.OBJECTIVE, objective.id or 0),
        objective.cycle_key,
        in_channel=in_channel,
    )


# ---- the modal -------------------------------------------------------------------------------


def open_review_modal(
    ctx: AppContext,
    client: WebClient,
    *,
    trigger_id: str,
    user_id: str,
    objective_id: int | None = None,
    cycle_key: str | None = None,
    channel_id: str | None = None,
) -> None:
    clock = Clock.of(ctx)
    try:
        with ctx.db.session() as s:
            if objective_id is not None:
                objective = service.get_objective(db_session=s, objective_id=objective_id)
                service.require_edit(
                    db_session=s, objective=objective, actor_id=user_id, is_admin=ctx.is_admin(user_id)
                )
                span = clock.span(objective.cycle_key)
            else:
                span = clock.span(cycle_key) if cycle_key else review.writing_cycle(clock)
            review.check_writable(clock, span)
            items = review.items_of_owner(
                db_session=s, clock=clock, owner_id=user_id, cycle_key=span.key, objective_id=objective_id
            )
        if not items:
            raise UserError(f"You have no objectives in cycle {span.key} to review.")
        view = review_views.review_modal(items, cycle_key=span.key, metadata={"channel": channel_id})
    except UserError as err:
        view = modals.notice_modal("Cycle review", str(err))
    client.views_open(trigger_id=trigger_id, view=view)


def _submitted(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    meta: dict[str, Any] = {}
    try:
        meta = json.loads((body.get("view") or {}).get("private_metadata") or "{}")
    except ValueError:
        pass
    texts: dict[str, str] = {}
    for block_id, actions in ((body.get("view") or {}).get("state") or {}).get("values", {}).items():
        for entry in actions.values():
            texts[block_id] = str(entry.get("value") or "")
    return meta, texts


def read_review(
    texts: dict[str, str],
) -> tuple[dict[int, float | None], dict[int, review.ReflectionText], dict[str, str]]:
    """The modal's fields → scores by KR, reflections by objective, and errors by field."""
    scores: dict[int, float | None] = {}
    reflections: dict[int, review.ReflectionText] = {}
    errors: dict[str, str] = {}
    for field_id, text in texts.items():
        kr_id = Field.FINAL.index_of(field_id)
        if kr_id is not None:
            raw = text.strip()
            try:
                scores[kr_id] = (
                    review.check_final_score(parse_number(raw, what="final score")) if raw else None
                )
            except UserError as err:
                errors[field_id] = err.message
            continue
        for field, attr in ((Field.WORKED, "worked"), (Field.DIDNT, "didnt"), (Field.NEXT, "next")):
            oid = field.index_of(field_id)
            if oid is not None:
                setattr(reflections.setdefault(oid, review.ReflectionText()), attr, text)
    return scores, reflections, errors


# ---- the job ---------------------------------------------------------------------------------


def _post(client: WebClient, channel: str, payload: dict[str, Any]) -> str:
    try:
        client.chat_postMessage(channel=channel, text=payload["text"], blocks=payload.get("blocks"))
        return "sent"
    except Exception as exc:  # a channel the bot left, a deleted user: record it, keep going
        log.warning("cycle review: could not post to %s: %s", channel, exc)
        return "failed"


def send_review_dms(ctx: AppContext, client: WebClient, clock: Clock, span: CycleSpan) -> int:
    """One DM per owner of `span`'s objectives; returns how many were sent now."""
    with ctx.db.session() as s:
        owners = review.owners(db_session=s, cycle_key=span.key)
    carry_to = clock.next(span)
    sent = 0
    for owner in owners:
        key = f"okr:review-dm:{span.key}:{owner}"
        with ctx.db.session() as s:
            if not delivery.claim(db_session=s, key=key, kind="okr_review_dm", detail=span.key):
                continue
            items = review.items_of_owner(db_session=s, clock=clock, owner_id=owner, cycle_key=span.key)
            unfinished = review.unfinished(db_session=s, clock=clock, owner_id=owner, cycle_key=span.key)
        payload = review_views.review_dm(span=span, items=items, unfinished=unfinished, carry_to=carry_to)
        status = _post(client, owner, payload)
        sent += status == "sent"
        with ctx.db.session() as s:
            delivery.mark(db_session=s, key=key, status=status)
    return sent


def post_reviews(ctx: AppContext, client: WebClient, clock: Clock, span: CycleSpan) -> int:
    """The review of `span` to every subscribed channel, once per channel and scope."""
    with ctx.db.session() as s:
        subs = [(sub.channel_id, sub.scope, team) for sub, team in review.subscriptions(db_session=s)]
    sent = 0
    for channel_id, scope, team in subs:
        if scope != review.COMPANY and team is None:
            continue  # the team is gone
        key = f"okr:review-post:{span.key}:{channel_id}:{scope}"
        with ctx.db.session() as s:
            if not delivery.claim(db_session=s, key=key, kind="okr_review_post", detail=span.key):
                continue
            result = review.report(db_session=s, clock=clock, cycle_key=span.key, team=team)
        payload = review_views.review_message(result, share_value=None, in_channel=True)
        status = _post(client, channel_id, payload)
        sent += status == "sent"
        with ctx.db.session() as s:
            delivery.mark(db_session=s, key=key, status=status)
    return sent


def run_job(ctx: AppContext, client: WebClient) -> None:
    """The periodic job: review DMs in the review week; the review posts from the last day's noon."""
    clock = Clock.of(ctx)
    current = clock.current()
    if review.in_review_week(clock, current):
        send_review_dms(ctx, client, clock, current)
    for span in (current, clock.previous(current)):
        opens, closes = review.post_window(clock, span)
        if opens <= clock.now() < closes:
            post_reviews(ctx, client, clock, span)


# ---- registration ----------------------------------------------------------------------------


def register(app: App, ctx: AppContext) -> None:
    ctx.add_job(Job(JOB_NAME, JOB_EVERY, run_job))

    @guarded
    def on_review_click(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        action = body["actions"][0]
        cycle_key = str(action.get("value") or action["action_id"].split(":", 1)[-1])
        channel = (body.get("channel") or {}).get("id")
        open_review_modal(
            ctx,
            client,
            trigger_id=body["trigger_id"],
            user_id=body["user"]["id"],
            cycle_key=cycle_key,
            channel_id=channel,
        )
        ack()

    app.action(Action.REVIEW.pattern())(on_review_click)

    def ack_only(ack: Ack) -> None:
        ack()

    def on_carry_click(body: dict[str, Any], client: WebClient) -> None:
        user_id = body["user"]["id"]
        action = body["actions"][0]
        try:
            kr_id = int(action.get("value") or action["action_id"].split(":")[-1])
            payload = carry(ctx, user_id, kr_id)
        except (UserError, ValueError) as err:
            payload = common_views.error_message(str(err))
        channel = (body.get("channel") or {}).get("id")
        notify(client, user_id, channel, payload)

    app.action(Action.CARRY.pattern())(ack=ack_only, lazy=[on_carry_click])

    @app.view(Callback.REVIEW.value)
    def on_review_submit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        user_id = body["user"]["id"]
        meta, texts = _submitted(body)
        scores, reflections, errors = read_review(texts)
        if errors:
            ack(**modals.modal_errors(errors))
            return
        clock = Clock.of(ctx)
        allowed = {int(o) for o in meta.get("objectives") or []}
        try:
            with ctx.db.session() as s:
                objectives = review.save(
                    db_session=s,
                    actor_id=user_id,
                    is_admin=ctx.is_admin(user_id),
                    clock=clock,
                    scores=scores,
                    texts={o: t for o, t in reflections.items() if o in allowed},
                )
        except UserError as err:
            first = next(iter(texts), Field.FINAL.value)
            ack(**modals.modal_errors({first: err.message}))
            return
        ack()
        ids = [o.id or 0 for o in objectives]
        span = clock.span(str(meta.get("cycle") or clock.current().key))

        def confirm() -> None:
            with ctx.db.session() as s:
                items = [
                    i
                    for oid in ids
                    for i in review.items_of_owner(
                        db_session=s, clock=clock, owner_id=user_id, cycle_key=span.key, objective_id=oid
                    )
                ]
            notify(client, user_id, meta.get("channel"), review_views.review_saved(items, span=span))

        ctx.executor.submit(confirm)
