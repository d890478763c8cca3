"""The slow half of /postmortem, run after the acknowledgement: drafting from a channel's history
(with a model when one is configured), the blameless check (rules, plus the model's findings),
moving a postmortem and announcing it, and the :pushpin: timeline.

Each returns the payload to show (or does its own posting); the listeners in `slack.py` decide
where it goes. Model trouble never reaches the user: the rules and the timeline stand alone.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError

from bot.common import delivery
from bot.common.errors import UserError
from bot.context import AppContext
from bot.llm import Deadline, LLMError
from bot.people import service as people
from bot.postmortems import blameless, channel, drafting, items, model, service, views, workflow
from bot.postmortems.rules import FIELDS, Status, from_slack
from bot.postmortems.viewer import today_for, viewer_tz

log = logging.getLogger(__name__)

DRAFT_DEADLINE_SECONDS = 20.0
CHECK_DEADLINE_SECONDS = 10.0


def labels_for(d: service.Detail, tz: ZoneInfo) -> dict[str, str]:
    """Where a finding is, as a person reads it: a field label, "Timeline 14:05", "AI-3"."""
    labels = {f.key: f.label for f in FIELDS}
    labels.update({f"timeline:{e.id}": f"Timeline {views.when(e.at, tz)}" for e in d.timeline})
    labels.update({f"action:{a.id}": f"Action item {service.ai_ref(a.id)}" for a in d.actions})
    return labels


# ---- slow work ----------------------------------------------------------------------------------


def reply(
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
