"""Listeners for thread summaries: `/review`, the Summarize thread shortcut, `@Flywheel summarize`.

Each acknowledges at once (a "working on it" message within a second) and does the slow part —
reading the thread, calling the model — in a Bolt lazy listener after the ack. The service
does the work; this module only parses, adapts Slack's Web API to the service's `ThreadSource`,
and posts what the views render. No traceback ever reaches a user.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.common import views as common_views
from bot.common.errors import UserError
from bot.common.slack import SORRY, guarded, is_help
from bot.context import AppContext
from bot.llm import Deadline
from bot.reviews import service, views
from bot.reviews.views import ReviewAction

log = logging.getLogger(__name__)

_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>|#?([CG][A-Z0-9]{6,})")
_CHANNEL_NAME = re.compile(r"#([\w.-]{1,80})")
_SUMMARIZE = re.compile(r"\b(summari[sz]e|summary|tl;?dr|recap)\b", re.IGNORECASE)
_AUTH_CACHE: dict[str, dict[str, Any]] = {}
_AUTH_LOCK = threading.Lock()
LOOKBACK_SECONDS = 31 * 24 * 3600


class SlackThreadSource:
    """The service's `ThreadSource` over the Web API, with Slack's pagination and errors mapped."""

    PAGE = 200

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def _auth(self) -> dict[str, Any]:
        key = f"{self.client.base_url}|{self.client.token}"
        with _AUTH_LOCK:
            cached = _AUTH_CACHE.get(key)
        if cached is None:
            cached = dict(self.client.auth_test().data)  # type: ignore[arg-type]
            with _AUTH_LOCK:
                _AUTH_CACHE[key] = cached
        return cached

    def workspace_url(self) -> str:
        return str(self._auth().get("url") or "https://slack.com/")

    def bot_user_id(self) -> str | None:
        return self._auth().get("user_id")

    def channel_members(self, channel_id: str) -> set[str]:
        members: set[str] = set()
        cursor: str | None = None
        try:
            while True:
                page = self.client.conversations_members(channel=channel_id, limit=self.PAGE, cursor=cursor)
                members.update(page.get("members") or [])
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    return members
        except SlackApiError as err:
            code = err.response.get("error") if err.response is not None else None
            if code in ("channel_not_found", "not_in_channel", "method_not_supported_for_channel_type"):
                raise service.ChannelUnavailable(code) from None
            raise

    def thread_messages(self, channel_id: str, thread_ts: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        cursor: str | None = None
        try:
            while True:
                page = self.client.conversations_replies(
                    channel=channel_id, ts=thread_ts, limit=self.PAGE, cursor=cursor
                )
                messages.extend(page.get("messages") or [])
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor or not page.get("has_more", True):
                    return messages
        except SlackApiError as err:
            code = err.response.get("error") if err.response is not None else None
            if code == "not_in_channel":
                raise service.BotNotInChannel(code) from None
            if code in ("thread_not_found", "message_not_found"):
                raise service.ThreadUnavailable(code) from None
            if code == "channel_not_found":
                raise service.ChannelUnavailable(code) from None
            raise

    def active_threads(self, channel_id: str, since_ts: str) -> list[str]:
        # History filters by the parent's ts; a thread started up to a month before can still be active.
        oldest = f"{max(0.0, float(since_ts) - LOOKBACK_SECONDS):.6f}"
        found: list[str] = []
        cursor: str | None = None
        try:
            while True:
                page = self.client.conversations_history(
                    channel=channel_id, oldest=oldest, limit=self.PAGE, cursor=cursor
                )
                for m in page.get("messages") or []:
                    latest = str(m.get("latest_reply") or "")
                    if m.get("reply_count") and latest and float(latest) >= float(since_ts):
                        found.append(str(m["ts"]))
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    return found
        except SlackApiError as err:
            code = err.response.get("error") if err.response is not None else None
            if code == "not_in_channel":
                raise service.BotNotInChannel(code) from None
            if code == "channel_not_found":
                raise service.ChannelUnavailable(code) from None
            raise

    def is_private(self, channel_id: str) -> bool:
        try:
            info = self.client.conversations_info(channel=channel_id)
        except SlackApiError as err:
            raise service.ChannelUnavailable(str(err.response.get("error"))) from None
        channel = info.get("channel") or {}
        return bool(channel.get("is_private") or channel.get("is_im") or channel.get("is_mpim"))


def _thread_of_message(message: dict[str, Any]) -> str:
    """A shortcut on a reply summarizes its thread; on a parent (or a lone message), that one."""
    return str(message.get("thread_ts") or message.get("ts"))


def _deliver(
    payloads: list[dict[str, Any]],
    *,
    respond: Respond | None,
    client: WebClient,
    channel: str,
    user: str,
    thread_ts: str | None,
    replace_first: bool,
) -> None:
    """Post the pages: through response_url when we have one (replacing "working on it")."""
    for n, payload in enumerate(payloads):
        if respond is not None:
            respond(
                **payload, replace_original=replace_first and n == 0, unfurl_links=False, unfurl_media=False
            )
        else:
            body = {k: v for k, v in payload.items() if k != "response_type"}
            client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **body)


def _summarize_and_deliver(
    ctx: AppContext,
    client: WebClient,
    *,
    user: str,
    channel: str,
    thread_ts: str,
    respond: Respond | None,
    reply_channel: str,
    reply_thread: str | None,
    replace_first: bool,
) -> None:
    """The lazy half of every summarize entry point: the summary, a refusal, or one calm line."""
    try:
        result = _summarize(ctx, client, user=user, channel=channel, thread_ts=thread_ts)
        payloads = views.summary_messages(result)
    except UserError as err:
        payloads = [views.refusal(str(err))]
    except Exception:
        log.exception("summary of %s/%s failed", channel, thread_ts)
        payloads = [common_views.error_message(SORRY)]
    try:
        _deliver(
            payloads,
            respond=respond,
            client=client,
            channel=reply_channel,
            user=user,
            thread_ts=reply_thread,
            replace_first=replace_first,
        )
    except Exception:
        log.exception("could not deliver the summary of %s/%s", channel, thread_ts)


def _summarize(
    ctx: AppContext,
    client: WebClient,
    *,
    user: str,
    channel: str,
    thread_ts: str,
    prefer_cached: bool = False,
) -> service.Result:
    """The service call every entry point shares: Slack as the thread source, one model deadline."""
    return service.summarize_thread(
        db=ctx.db,
        llm=ctx.llm,
        source=SlackThreadSource(client),
        channel_id=channel,
        thread_ts=thread_ts,
        requester=user,
        deadline=Deadline.after(service.MODEL_DEADLINE_SECONDS),
        prefer_cached=prefer_cached,
    )


def register(app: App, ctx: AppContext) -> None:
    # --- /review -------------------------------------------------------------------------
    @guarded
    def review_ack(ack: Ack, command: dict[str, Any]) -> None:
        kind, _ = _route(command.get("text") or "")  # a UserError here is shown by `guarded`
        if kind == "help":
            ack(**views.help_message())
        elif kind == "list":
            ack(**views.channel_list(service.review_channels(ctx.db)))
        elif kind == "summarize":
            ack(**views.working_message())
        else:
            ack()  # registering answers after the membership check, from the lazy half

    def review_work(command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        try:
            kind, arg = _route(command.get("text") or "")
        except UserError:
            return  # already answered in the ack
        user = command["user_id"]
        if kind in ("add", "remove"):
            _channel_work(ctx, client, respond, user, kind, arg)
        elif kind == "summarize":
            channel, thread_ts = service.parse_permalink(arg)
            _summarize_and_deliver(
                ctx,
                client,
                user=user,
                channel=channel,
                thread_ts=thread_ts,
                respond=respond,
                reply_channel=command.get("channel_id", channel),
                reply_thread=None,
                replace_first=True,
            )

    app.command("/review")(ack=review_ack, lazy=[review_work])

    # --- message shortcut ------------------------------------------------------------------
    def shortcut_ack(ack: Ack) -> None:
        ack()

    def shortcut_work(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id") or ""
        message = body.get("message") or {}
        try:
            respond(**views.working_message())
        except Exception:
            log.exception("could not post 'working on it'")
        _summarize_and_deliver(
            ctx,
            client,
            user=user,
            channel=channel,
            thread_ts=_thread_of_message(message),
            respond=respond,
            reply_channel=channel,
            reply_thread=None,
            replace_first=True,
        )

    app.shortcut(ReviewAction.SUMMARIZE_SHORTCUT.value)(ack=shortcut_ack, lazy=[shortcut_work])

    # --- @Flywheel summarize ---------------------------------------------------------------
    def mention_ack(ack: Ack) -> None:
        ack()

    def mention_work(event: dict[str, Any], client: WebClient) -> None:
        user = event.get("user")
        channel = event.get("channel")
        if not user or not channel:
            return
        thread_ts = event.get("thread_ts")
        text = re.sub(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>", " ", event.get("text") or "")
        try:
            if not thread_ts or not _SUMMARIZE.search(text):
                payload = views.mention_help()
                client.chat_postEphemeral(
                    channel=channel,
                    user=user,
                    thread_ts=thread_ts,
                    text=payload["text"],
                    blocks=payload["blocks"],
                )
                return
            working = views.working_message()
            client.chat_postEphemeral(
                channel=channel,
                user=user,
                thread_ts=thread_ts,
                text=working["text"],
                blocks=working["blocks"],
            )
        except Exception:
            log.exception("could not answer a mention")
            return
        _summarize_and_deliver(
            ctx,
            client,
            user=user,
            channel=channel,
            thread_ts=thread_ts,
            respond=None,
            reply_channel=channel,
            reply_thread=thread_ts,
            replace_first=False,
        )

    app.event("app_mention")(ack=mention_ack, lazy=[mention_work])

    # --- Share in thread -------------------------------------------------------------------
    def share_ack(ack: Ack) -> None:
        ack()

    def share_work(body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond) -> None:
        user = body["user"]["id"]
        try:
            channel, thread_ts = views.parse_share_value(action.get("value", ""))
            result = _summarize(
                ctx, client, user=user, channel=channel, thread_ts=thread_ts, prefer_cached=True
            )
            for payload in views.summary_messages(result, shared_by=user):
                client.chat_postMessage(
                    channel=channel,
                    thread_ts=thread_ts,
                    text=payload["text"],
                    blocks=payload["blocks"],
                    unfurl_links=False,
                    unfurl_media=False,
                )
            answer = views.shared_confirmation(result.summary.lang)
        except UserError as err:
            answer = views.refusal(str(err))
        except Exception:
            log.exception("sharing a summary failed")
            answer = common_views.error_message(SORRY)
        try:
            respond(**answer, replace_original=False)
        except Exception:
            log.exception("could not confirm the share")

    app.action(ReviewAction.SHARE_IN_THREAD.value)(ack=share_ack, lazy=[share_work])


def _route(text: str) -> tuple[str, str]:
    """`/review` text → (kind, argument); kinds: help, list, add, remove, summarize.

    Raises `UserError` with the right form for anything else. The ack and the lazy half both
    route with this, so they always agree on what the user asked.
    """
    text = text.strip()
    words = text.split()
    head = words[0].lower() if words else ""
    if not text or is_help(text):
        return "help", ""
    if head == "channels" or (head == "channel" and [w.lower() for w in words[1:]] == ["list"]):
        return "list", ""
    if head == "channel":
        args = words[1:]
        action = "add"
        if args and args[0].lower() in ("remove", "rm", "delete", "unregister"):
            action, args = "remove", args[1:]
        m = _CHANNEL.fullmatch(args[0]) if len(args) == 1 else None
        named = _CHANNEL_NAME.fullmatch(args[0]) if len(args) == 1 else None
        if not m and named:
            # Slack turns every channel the person can see into <#C…|name>; a plain #name is none.
            raise UserError(
                f"There's no channel #{named.group(1)} that you and I can see — check the name.",
                hint="Pick the channel as you type it, e.g. `/review channel #product-review`.",
            )
        if not m:
            raise UserError(
                "Tell me which channel: `/review channel #product-review` "
                "(or `/review channel remove #product-review`)."
            )
        return action, m.group(1) or m.group(2)
    if "/archives/" in text:
        service.parse_permalink(text)  # raises with the right form
        return "summarize", text
    raise UserError(
        f"I don't understand `/review {text}`.",
        hint="Try `/review ‹message link›`, `/review channel #channel` or `/review help`.",
    )


def _channel_work(
    ctx: AppContext, client: WebClient, respond: Respond, user: str, action: str, channel_id: str
) -> None:
    try:
        if action == "remove":
            removed = service.unregister_channel(
                db=ctx.db, actor=user, channel_id=channel_id, is_admin=ctx.is_admin(user)
            )
            payload = views.channel_removed(channel_id, removed)
        else:
            new = service.register_channel(
                db=ctx.db, source=SlackThreadSource(client), actor=user, channel_id=channel_id
            )
            payload = views.channel_registered(channel_id, new)
    except UserError as err:
        payload = views.refusal(str(err))
    except Exception:
        log.exception("/review channel failed")
        payload = common_views.error_message(SORRY)
    try:
        respond(**payload)
    except Exception:
        log.exception("could not answer /review channel")
