"""Keeps the local copy of each user fresh from `users.info`, without slowing the acknowledgement."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
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


class RememberUser(Middleware):
    """Keeps the requesting user's local copy fresh. Users checked within the last few minutes
    skip even the database read: this runs on every request, in the acknowledgement's path (and
    is class-based because Bolt's argument injection for function middleware costs more)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.recent: dict[str, float] = {}

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        context = req.context
        user_id = context.user_id
        if user_id and user_id.startswith(("U", "W")) and context.bot_user_id != user_id:
            now = time.monotonic()
            if now - self.recent.get(user_id, -RECHECK_SECONDS) >= RECHECK_SECONDS:
                try:
                    if ensure(self.ctx, context.client, user_id) is not None:
                        if len(self.recent) >= RECENT_LIMIT:
                            self.recent.clear()
                        self.recent[user_id] = now
                except Exception:  # never let bookkeeping break a request
                    log.exception("could not refresh user %s", user_id)
        return next()


def register(app: App, ctx: AppContext) -> None:
    app.use(RememberUser(ctx))
