"""`flywheel serve`: migrate, build the app, then Socket Mode or HTTP."""

from __future__ import annotations

import logging
import signal
import threading

from slack_sdk.errors import SlackApiError

from bot.app import Flywheel, build_app
from bot.config import Settings, SettingsError
from storage.migrate import upgrade

log = logging.getLogger(__name__)


def run(settings: Settings, *, port: int) -> None:
    upgrade(settings.database_url)
    fw = build_app(settings)
    import atexit

    from bot.scheduler import Scheduler

    # Runs the jobs only while this replica leads; on exit, hands the lead over at once.
    atexit.register(Scheduler(fw.ctx, fw.app.client).start().stop)
    from bot.server import build_asgi
    from bot.serving import serve_forever, start_in_thread

    if settings.socket_mode:
        # Health and metrics still answer on PORT, so the container's HEALTHCHECK works here too.
        health = start_in_thread(build_asgi(fw, events=False), host="0.0.0.0", port=port)
        log.info("starting in Socket Mode (health and metrics on port %s)", port)
        try:
            run_socket_mode(fw, str(settings.slack_app_token))
        finally:
            health.stop()
        return

    log.info("starting HTTP mode on port %s", port)
    serve_forever(build_asgi(fw), port=port, log_level=settings.log_level)


def run_socket_mode(fw: Flywheel, app_token: str) -> None:
    """Connect (reconnecting on its own from then on) and wait for SIGTERM or Ctrl-C, then close
    the connection cleanly so Slack stops sending to it at once."""
    from bot.socket_mode import socket_mode_handler

    handler = socket_mode_handler(fw.app, app_token)
    try:
        handler.connect()
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown error") if exc.response is not None else str(exc)
        raise SettingsError(
            f"SLACK_APP_TOKEN was refused by Slack ({error}): expected an app-level token with the "
            "connections:write scope, and Socket Mode turned on for the app"
        ) from None
    log.info("Socket Mode connected")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    log.info("closing the Socket Mode connection")
    handler.close()
    fw.ctx.executor.shutdown(wait=True, cancel_futures=False)
