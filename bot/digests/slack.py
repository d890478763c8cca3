"""/digest listeners, and the digest and nudge jobs registered on the scheduler.

`/digest`, `help`, `remove` and every parse error are answered in the acknowledgement. `add`
checks that the bot can post in the channel (one Web API call) and `preview` builds a digest
(thread summaries may call the model), so both finish in a lazy listener after the ack.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.common import views as common_views
from bot.common.errors import UserError
from bot.common.slack import SORRY, guarded
from bot.context import AppContext
from bot.digests import content, deliver, nudges, parse, service, views
from bot.jobs import Job

log = logging.getLogger(__name__)

PREVIEW_LOOKBACK = timedelta(days=7)


def _list(ctx: AppContext, channel_id: str) -> dict[str, Any]:
    with ctx.db.session() as s:
        subs = service.list_channel(db_session=s, channel_id=channel_id)
    lines = []
    for sub in subs:
        rule = service.rule_of(sub)
        lines.append(views.sub_line(sub, rule.describe(), sub.next_run_at, rule.tz))
    return views.list_message(lines)


def answer(ctx: AppContext, command: dict[str, Any]) -> dict[str, Any] | None:
    """The acknowledgement; None when the lazy half answers."""
    request = parse.parse(command.get("text"))
    if isinstance(request, parse.Help):
        return views.help_message(ctx.settings.flywheel_timezone)
    if isinstance(request, parse.ListAll):
        return _list(ctx, command["channel_id"])
    if isinstance(request, parse.Remove):
        with ctx.db.session() as s:
            sub = service.remove(
                db_session=s,
                channel_id=command["channel_id"],
                sub_id=request.sub_id,
                actor_id=command["user_id"],
            )
        return views.removed(sub, service.rule_of(sub).describe())
    if isinstance(request, parse.Add):
        request.rule(ctx.settings.flywheel_timezone)  # a bad zone fails here, in the ack
        return None
    return views.preview_working(request.kind)


def _bot_can_post(client: WebClient, channel_id: str) -> bool:
    try:
        info = client.conversations_info(channel=channel_id)
    except SlackApiError as err:
        if err.response.get("error") in ("channel_not_found", "not_in_channel"):
            return False
        raise
    channel = info.get("channel") or {}
    return bool(channel.get("is_im") or channel.get("is_member", True))


def _add(ctx: AppContext, client: WebClient, command: dict[str, Any], request: parse.Add) -> dict[str, Any]:
    channel_id = command["channel_id"]
    if channel_id[:1] in ("C", "G") and not _bot_can_post(client, channel_id):
        return views.bot_not_in_channel(channel_id)
    rule = request.rule(ctx.settings.flywheel_timezone)
    with ctx.db.session() as s:
        sub = service.add(
            db_session=s,
            channel_id=channel_id,
            kind=request.kind,
            rule=rule,
            actor_id=command["user_id"],
            now=ctx.clock.now(),
        )
    return views.added(sub, rule.describe(), sub.next_run_at, rule.tz)


def preview(
    ctx: AppContext, client: WebClient, *, kind: parse.DigestKind, channel_id: str, user_id: str
) -> dict[str, Any]:
    """Build the digest this channel would get now and post it there; returns what was posted.

    Raises `UserError` when the bot cannot post there (checked first: Slack would refuse only
    after the digest was built)."""
    if channel_id[:1] in ("C", "G") and not _bot_can_post(client, channel_id):
        raise UserError(views.bot_not_in_channel(channel_id)["text"])
    now = ctx.clock.now()
    with ctx.db.session() as s:
        subs = [x for x in service.list_channel(db_session=s, channel_id=channel_id) if x.kind == kind.value]
    covered = [x.covered_until for x in subs if x.covered_until is not None]
    rule = service.rule_of(subs[0]) if subs else None
    window = content.Window(
        since=max(covered) if covered else now - (rule.length if rule else PREVIEW_LOOKBACK),
        until=now,
        tz=rule.tz if rule else ctx.settings.tz,
    )
    built = content.Builder(ctx, client).build(kind, window, channel_id)
    payload = views.digest_message(built, kind=kind, window=window, cadence=None, requested_by=user_id)
    client.chat_postMessage(channel=channel_id, unfurl_links=False, unfurl_media=False, **payload)
    return payload


def register(app: App, ctx: AppContext) -> None:
    ctx.add_job(Job("digests", deliver.TICK, deliver.run_due))
    ctx.add_job(Job("okr-nudges", nudges.EVERY, nudges.run_nudges))

    @guarded
    def digest_ack(ack: Ack, command: dict[str, Any]) -> None:
        payload = answer(ctx, command)
        if payload is None:
            ack()
        else:
            ack(**payload)

    def digest_work(command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        try:
            request = parse.parse(command.get("text"))
            if isinstance(request, parse.Add):
                request.rule(ctx.settings.flywheel_timezone)
        except (UserError, ValueError):
            return  # already answered in the ack
        try:
            if isinstance(request, parse.Add):
                respond(**_add(ctx, client, command, request))
            elif isinstance(request, parse.Preview):
                preview(
                    ctx,
                    client,
                    kind=request.kind,
                    channel_id=command["channel_id"],
                    user_id=command["user_id"],
                )
        except UserError as err:
            respond(**common_views.error_message(str(err)))
        except SlackApiError as err:
            code = err.response.get("error")
            if code in ("not_in_channel", "channel_not_found"):
                respond(**views.bot_not_in_channel(command["channel_id"]))
            else:
                log.exception("/digest %s failed", command.get("text"))
                respond(**common_views.error_message(SORRY))
        except Exception:
            log.exception("/digest %s failed", command.get("text"))
            respond(**common_views.error_message(SORRY))

    app.command("/digest")(ack=digest_ack, lazy=[digest_work])
