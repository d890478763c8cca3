"""HTTP mode: Starlette on uvicorn. `POST /slack/events`, `GET /healthz`, `GET /metrics`.

Bolt's sync dispatch runs in worker threads, so a listener waiting on the Web API (a modal
opening, a first `users.info`) never stalls the event loop for the other requests. At most
`DISPATCH_CONCURRENCY` requests dispatch at once; the rest wait on the event loop. On a 2-core
machine eight threads fighting over the GIL cost more than they overlap (bench/okr_ack.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app import Flywheel

DISPATCH_CONCURRENCY = 2


def events_endpoint(
    app: App, concurrency: int = DISPATCH_CONCURRENCY
) -> Callable[[Request], Awaitable[Response]]:
    """`POST /slack/events` for any Bolt App — Flywheel's, or the benchmark's bare baseline."""
    limiter = anyio.CapacityLimiter(concurrency)

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        bolt_request = to_bolt_request(request, body)
        bolt_response = await anyio.to_thread.run_sync(app.dispatch, bolt_request, limiter=limiter)
        return to_starlette_response(bolt_response)

    return slack_events


def build_asgi(fw: Flywheel, *, events: bool = True) -> Starlette:
    async def healthz(_request: Request) -> Response:
        db_ok = await run_in_threadpool(fw.ctx.db.ping)
        payload: dict[str, Any] = {
            "status": "ok" if db_ok else "degraded",
            "db": "ok" if db_ok else "unreachable",
        }
        return JSONResponse(payload, status_code=200 if db_ok else 503)

    async def metrics(_request: Request) -> Response:
        return Response(generate_latest(fw.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    routes = [Route("/healthz", healthz, methods=["GET"]), Route("/metrics", metrics, methods=["GET"])]
    if events:
        routes.append(Route("/slack/events", events_endpoint(fw.app), methods=["POST"]))
    return Starlette(routes=routes)
