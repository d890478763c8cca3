"""`flywheel serve`: migrate, build the app, then Socket Mode or HTTP."""

from __future__ import annotations

import logging

from bot.app import build_app
from bot.config import Settings
from storage.migrate import upgrade

log = logging.getLogger(__name__)


def run(settings: Settings, *, port: int) -> None:
    upgrade(settings.database_url)
    fw = build_app(settings)
    from bot.jobs import JobRunner

    JobRunner(fw.ctx, fw.app.client).start()
    from bot.server import build_asgi
    from bot.serving import serve_forever, start_in_thread

    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        # Health and metrics still answer on PORT, so the container's HEALTHCHECK works here too.
        start_in_thread(build_asgi(fw, events=False), host="0.0.0.0", port=port)
        log.info("starting in Socket Mode (health and metrics on port %s)", port)
        SocketModeHandler(fw.app, settings.slack_app_token).start()
        return

    log.info("starting HTTP mode on port %s", port)
    serve_forever(build_asgi(fw), port=port, log_level=settings.log_level)
