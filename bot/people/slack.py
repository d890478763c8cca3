"""Keeps the local copy of each user fresh from `users.info`, without slowing the acknowledgement."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context import AppContext
from bot.people import service
from storage.models import Person

log = logging.getLogger(__name__)


def refresh(ctx: AppContext, client: WebClient, user_id: str) -> Person | None:
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as exc:
        log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
        return None
    with ctx.db.session() as s:
        return service.upsert_from_slack(db_session=s, user=user)


def ensure(ctx: AppContext, client: WebClient, user_id: str) -> Person | None:
    """The person, fetched now only when never seen; a stale copy is refreshed in the background."""
    with ctx.db.session() as s:
        person = service.get(db_session=s, slack_id=user_id)
    if person is None:
        return refresh(ctx, client, user_id)
    if service.is_stale(person):
        ctx.executor.submit(refresh, ctx, client, user_id)
    return person


RECHECK_SECONDS = 300.0
RECENT_LIMIT = 20_000


def register(app: App, ctx: AppContext) -> None:
    # Users checked within the last few minutes skip even the database read: this runs on every
    # request, in the acknowledgement's critical path.
    recent: dict[str, float] = {}

    @app.middleware
    def remember_user(context: Any, client: WebClient, next: Callable[[], Any]) -> Any:
        user_id = context.get("user_id")
        if user_id and user_id.startswith(("U", "W")) and context.get("bot_user_id") != user_id:
            now = time.monotonic()
            if now - recent.get(user_id, -RECHECK_SECONDS) >= RECHECK_SECONDS:
                try:
                    if ensure(ctx, client, user_id) is not None:
                        if len(recent) >= RECENT_LIMIT:
                            recent.clear()
                        recent[user_id] = now
                except Exception:  # never let bookkeeping break a request
                    log.exception("could not refresh user %s", user_id)
        return next()
