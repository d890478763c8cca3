"""What postmortems read from Slack: a channel's history (every page), one message, the workspace URL.

Kept apart from the listeners so the draft-from-channel path can be tested against the simulator's
Web API directly, with a page size small enough that a short channel spans several pages.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.common.errors import UserError
from bot.postmortems.drafting import MAX_DRAFT_MESSAGES

log = logging.getLogger(__name__)

HISTORY_PAGE = 200
NOT_IN_CHANNEL = (
    "I can't read this channel yet. Invite me with `/invite @Flywheel`, then run `/postmortem draft` again."
)
UNREADABLE = "I can't read this channel's history. Run `/postmortem draft` in the incident channel itself."

_AUTH: dict[str, dict[str, Any]] = {}
_AUTH_LOCK = threading.Lock()


def _code(err: SlackApiError) -> str:
    return str(err.response.get("error")) if err.response is not None else "unknown"


def auth(client: WebClient) -> dict[str, Any]:
    """auth.test, once per token and API URL (the workspace URL and the bot's user ID)."""
    key = f"{client.base_url}|{client.token}"
    with _AUTH_LOCK:
        cached = _AUTH.get(key)
    if cached is None:
        cached = dict(client.auth_test().data)  # type: ignore[arg-type]
        with _AUTH_LOCK:
            _AUTH[key] = cached
    return cached


def workspace_url(client: WebClient) -> str:
    return str(auth(client).get("url") or "https://slack.com/")


def bot_user_id(client: WebClient) -> str | None:
    return auth(client).get("user_id")


def history(
    client: WebClient, channel_id: str, *, page: int | None = None, limit: int = MAX_DRAFT_MESSAGES * 2
) -> list[dict[str, Any]]:
    """The channel's top-level messages, following `next_cursor` through every page (newest first
    as Slack returns them), up to `limit`. Slack errors become a UserError the user can act on."""
    messages: list[dict[str, Any]] = []
    cursor: str | None = None
    try:
        while len(messages) < limit:
            resp = client.conversations_history(channel=channel_id, limit=page or HISTORY_PAGE, cursor=cursor)
            messages.extend(resp.get("messages") or [])
            cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    except SlackApiError as err:
        code = _code(err)
        if code == "not_in_channel":
            raise UserError(NOT_IN_CHANNEL) from None
        if code in ("channel_not_found", "missing_scope", "method_not_supported_for_channel_type"):
            raise UserError(UNREADABLE) from None
        raise
    return messages[:limit]


def channel_name(client: WebClient, channel_id: str) -> str:
    try:
        return str(
            (client.conversations_info(channel=channel_id).get("channel") or {}).get("name") or channel_id
        )
    except SlackApiError as err:
        log.info("conversations.info %s failed: %s", channel_id, _code(err))
        return channel_id


def message(client: WebClient, channel_id: str, ts: str) -> dict[str, Any] | None:
    """One message by its ts: from the history (top level) or, for a reply, from its thread."""
    try:
        resp = client.conversations_history(channel=channel_id, latest=ts, oldest=ts, inclusive=True, limit=1)
        for m in resp.get("messages") or []:
            if str(m.get("ts")) == ts:
                return dict(m)
        resp = client.conversations_replies(
            channel=channel_id, ts=ts, latest=ts, oldest=ts, inclusive=True, limit=10
        )
        for m in resp.get("messages") or []:
            if str(m.get("ts")) == ts:
                return dict(m)
    except SlackApiError as err:
        log.info("could not read %s/%s for the timeline: %s", channel_id, ts, _code(err))
    return None
