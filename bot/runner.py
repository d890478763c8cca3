"""`flywheel serve`: check the token, migrate, build the app, then Socket Mode or HTTP."""

from __future__ import annotations

import logging
import signal
import threading

from slack_sdk.errors import SlackApiError

from bot.app import Flywheel, build_app
from bot.config import Settings, SettingsError
from storage.migrate import upgrade

log = logging.getLogger(__name__)

# auth.test errors that mean the token itself is wrong (Slack's own list for the method).
TOKEN_ERRORS = {
    "invalid_auth": "Slack does not know this token",
    "not_authed": "no token was sent",
    "token_revoked": "the token was revoked",
    "token_expired": "the token has expired",
    "account_inactive": "the app's bot user or workspace is deactivated",
    "no_permission": "the token has no permission to call auth.test",
    "missing_scope": "the token lacks a scope auth.test needs",
    "not_allowed_token_type": "this is not a bot token",
    "invalid_token": "the token is malformed",
}


def check_token(settings: Settings) -> None:
    """Ask Slack (auth.test) whether SLACK_BOT_TOKEN works, before anything else starts.

    A wrong or revoked token, or a Slack API that cannot be reached, becomes one line naming the
    setting — the same as every other bad setting — instead of Bolt's traceback.
    """
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError
    from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

    # Its own quiet logger: the outcome is the one line below, not slack_sdk's retry chatter.
    quiet = logging.getLogger("flywheel.startup.auth_test")
    quiet.setLevel(logging.CRITICAL)
    quiet.propagate = False
    client = WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=10,
        logger=quiet,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )
    try:
        client.auth_test()
    except SlackApiError as exc:
        code = str(exc.response.get("error") or "unknown_error")
        reason = TOKEN_ERRORS.get(code, "Slack refused it")
        raise SettingsError(
            f"SLACK_BOT_TOKEN was refused by Slack ({code}: {reason}): expected the app's current "
            "Bot User OAuth Token (xoxb-…, OAuth & Permissions)"
        ) from None
    except Exception as exc:  # DNS, refused connection, TLS, timeout
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SettingsError(
            f"SLACK_API_URL {settings.slack_api_url} could not be reached to check SLACK_BOT_TOKEN: {detail}"
        ) from None


def run(settings: Settings, *, port: int) -> None:
    check_token(settings)
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
