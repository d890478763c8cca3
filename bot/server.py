"""HTTP mode: Starlette on uvicorn. `POST /slack/events`, `GET /healthz`, `GET /metrics`.

Bolt's sync dispatch runs in a worker thread, so a listener waiting on the Web API never stalls
the event loop for the other requests.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app import Flywheel


def build_asgi(fw: Flywheel, *, events: bool = True) -> Starlette:
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        bolt_response = await run_in_threadpool(fw.app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

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
        routes.append(Route("/slack/events", slack_events, methods=["POST"]))
    return Starlette(routes=routes)
