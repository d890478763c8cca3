"""build_app(): one Bolt app; each feature registers its own listeners.

The app runs with `process_before_response=True` (DESIGN §4: the fastest sync configuration,
measured): answers that are cheap are given in the acknowledgement itself, and slow work (model
calls, long threads, digests) goes to lazy listeners on a sized thread pool after the ack.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.config import Settings
from bot.context import AppContext
from bot.llm import build_gateway
from bot.metrics import Metrics
from storage.db import Database
from storage.models import ProcessedEvent
from storage.types import utcnow

log = logging.getLogger(__name__)

WORKER_THREADS = 16
DEDUPE_KEEP = timedelta(days=2)
PRUNE_EVERY = 500


def make_client(settings: Settings) -> WebClient:
    """The Web API client: honours SLACK_API_URL, waits out 429s per Retry-After, retries resets."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=15,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=5),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


@dataclass
class Flywheel:
    app: App
    ctx: AppContext
    metrics: Metrics


def _request_kind(body: dict[str, Any]) -> str:
    if "command" in body:
        return "command"
    kind = body.get("type") or "unknown"
    if kind == "event_callback":
        return "event:" + str((body.get("event") or {}).get("type", "?"))
    return str(kind)


class DedupeEvents(Middleware):
    """Handle each event once across retries and replicas: the stored event_id is the lock.

    A retry whose first delivery never arrived inserts cleanly and is handled as new. Class-based
    (not a decorated function) because it runs on every request and Bolt's argument injection
    for function middleware costs more than the check itself.
    """

    def __init__(self, ctx: AppContext, metrics: Metrics) -> None:
        self.ctx = ctx
        self.metrics = metrics
        self._tick = itertools.count(1).__next__

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        body = req.body
        if body.get("type") != "event_callback" or not body.get("event_id"):
            return next()
        try:
            with self.ctx.db.session() as s:
                s.add(ProcessedEvent(event_id=body["event_id"], event_type=_request_kind(body)[6:]))
                if self._tick() % PRUNE_EVERY == 0:
                    # Slack stops retrying within hours; older IDs only cost space.
                    cutoff = utcnow() - DEDUPE_KEEP
                    s.exec(delete(ProcessedEvent).where(col(ProcessedEvent.received_at) < cutoff))
        except IntegrityError:
            self.metrics.duplicates.inc()
            log.info("event %s already handled; skipping this delivery", body["event_id"])
            return BoltResponse(status=200, body="")
        return next()


class FlywheelApp(App):
    """Bolt's App, counting and timing every request it answers (HTTP and Socket Mode alike).

    Bolt's global middleware cannot wrap the rest of the chain (its `next` only sets a flag),
    so the acknowledgement's latency is measured here, around the whole dispatch.
    """

    metrics: Metrics

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.perf_counter()
        response = super().dispatch(req)
        kind = _request_kind(req.body) if isinstance(req.body, dict) else "unknown"
        self.metrics.requests.labels(kind=kind).inc()
        self.metrics.latency.labels(kind=kind.split(":")[0]).observe(time.perf_counter() - started)
        return response


def build_app(
    settings: Settings,
    *,
    db: Database | None = None,
    client: WebClient | None = None,
    token_verification: bool = True,
) -> Flywheel:
    db = db or Database(settings.database_url)
    executor = ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="flywheel-work")
    ctx = AppContext(settings=settings, db=db, executor=executor)
    metrics = Metrics()
    ctx.llm = build_gateway(settings, db=db, metrics=metrics)  # None: offline mode
    app = FlywheelApp(
        client=client or make_client(settings),
        signing_secret=settings.slack_signing_secret or "",
        process_before_response=True,
        listener_executor=executor,
        token_verification_enabled=token_verification,
        request_verification_enabled=not settings.socket_mode,
        logger=logging.getLogger("slack_bolt"),
    )
    app.metrics = metrics
    app.use(DedupeEvents(ctx, metrics))

    from bot import features

    features.register_all(app, ctx)

    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("unhandled error for %s: %r", _request_kind(body), error, exc_info=error)

    return Flywheel(app=app, ctx=ctx, metrics=metrics)
