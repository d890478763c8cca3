"""Socket Mode for `flywheel serve` (SLACK_APP_TOKEN set) and `flywheel demo --socket`.

Slack drops Socket Mode connections by design (refreshes every few hours, deploys, network
trouble), so what matters is how fast the client is back. Measured against the simulator
(`bench/socket_reconnect.py`, figures in the README):

- Bolt's default `SocketModeHandler` (slack_sdk's built-in client) follows a `disconnect`
  message at once, but after a dropped connection it only notices when its state check finds
  no pong for four ping intervals — about a minute with Bolt's 10 s interval — and while the
  socket is at EOF its receive loop spins.
- slack_sdk's `websocket-client` adapter reconnects within a second of a closed connection,
  but it runs `run_forever` without a pong deadline, so a half-open link (no FIN, no answer)
  is never noticed.

So Flywheel runs slack_sdk's `websocket-client` client with the fixes in `SocketModeClient`
below: a pong deadline, sessions that overlap instead of leaving a gap, one reconnect per loss.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import websocket
from slack_bolt import App
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.websocket_client import SocketModeClient as WebSocketClientModeClient

# A ping every 3 s; a pong more than 1 s late ends the connection and a new one is opened.
# websocket-client checks the deadline once per PING_TIMEOUT while idle and every ping restarts
# it, so the interval must exceed twice the timeout for a lost pong to be seen at the first ping:
# a silent link is then replaced within about 3 + 1 + 1 s (+ the handshake).
PING_INTERVAL = 3.0
PING_TIMEOUT = 1.0
ACK_WAIT_FOR_SESSION = 2.0  # an ack sent while the new session is still opening waits this long
SESSION_START_GRACE = 2.0  # the health monitor leaves a session this long to open


class SocketModeClient(WebSocketClientModeClient):
    """slack_sdk's websocket-client Socket Mode client, with what measuring it against the
    simulator showed it lacks (slack_sdk 3.47, websocket-client 1.9):

    - a deadline for pongs: the parent runs ``run_forever(ping_interval=…)`` without
      ``ping_timeout``, so a link that goes quiet without closing is kept forever; here
      websocket-client's ping/pong timeout ends it, its socket is shut down at once (not after
      a 3 s wait for a close frame that cannot come), and a new connection is opened;
    - no gap on ``disconnect``: the parent runs one session at a time on one runner thread, so
      the new connection opens only after the old one is gone — while the old one's reader
      often sleeps in ``select`` on a socket already closed under it, which never wakes it, for
      select's whole timeout (10 s by default). Meanwhile nothing is connected: an envelope sent
      then is lost and an ack sent then is dropped (Slack retries an event; a user's command
      fails). Here each session runs on its own thread, the new one opens at once, and the old
      one is retired (shut down, which wakes its reader) only when its successor is open;
    - one reconnect per loss: the parent reconnects whenever any session closes, so a replaced
      session's close opens a second, needless connection; here only the current one's does;
    - an ack sent while the new session is still opening waits for it (up to 2 s) instead of
      being dropped.
    """

    def __init__(self, *args: Any, ping_timeout: float = PING_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ping_timeout = ping_timeout
        self._retiring: list[websocket.WebSocketApp] = []
        self._retiring_lock = threading.Lock()
        self._session_started = 0.0

    # ---- sessions -----------------------------------------------------------------------------

    def connect(self) -> None:
        # The parent's connect(), reworked as described above.
        def on_open(ws: websocket.WebSocketApp) -> None:
            if ws is self.current_session:
                self._retire_others(ws)
            for listener in self.on_open_listeners:
                listener(ws)

        def on_message(ws: websocket.WebSocketApp, message: str) -> None:
            self.enqueue_message(message)
            for listener in self.on_message_listeners:
                listener(ws, message)

        def on_error(ws: websocket.WebSocketApp, error: Exception) -> None:
            if ws is self.current_session and not self.closed:  # a retired session's end is expected
                self.logger.info(f"Socket Mode connection lost ({type(error).__name__}: {error})")
            if isinstance(error, websocket.WebSocketTimeoutException) and ws.sock is not None:
                ws.sock.abort()  # the link is dead: do not wait for its close frame
            for listener in self.on_error_listeners:
                listener(ws, error)

        def on_close(ws: websocket.WebSocketApp, code: int | None = None, msg: str | None = None) -> None:
            if self.auto_reconnect_enabled and ws is self.current_session:
                self.logger.info("Socket Mode connection closed; reconnecting")
                try:
                    self.connect_to_new_endpoint()
                except Exception as e:  # the monitor tries again every ping interval
                    self.logger.warning(f"Socket Mode could not reconnect yet ({type(e).__name__}: {e})")
            for listener in self.on_close_listeners:
                listener(ws)

        old_session = self.current_session
        if self.wss_uri is None:
            self.wss_uri = self.issue_new_wss_url()
        session = websocket.WebSocketApp(
            self.wss_uri, on_open=on_open, on_message=on_message, on_error=on_error, on_close=on_close
        )
        self.current_session = session
        self._session_started = time.monotonic()
        self.auto_reconnect_enabled = self.default_auto_reconnect_enabled
        if not self.current_app_monitor_started:
            self.current_app_monitor_started = True
            self.current_app_monitor.start()
        if old_session is not None:
            with self._retiring_lock:
                self._retiring.append(old_session)
            if old_session.sock is None or not old_session.sock.connected:
                self._retire_others(session)  # already dead: nothing to keep it for
        threading.Thread(
            target=self._run_session, args=(session,), name="socket-mode-session", daemon=True
        ).start()

    def _run_session(self, session: websocket.WebSocketApp) -> None:
        try:
            session.run_forever(
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_timeout,
                http_proxy_host=self.http_proxy_host,
                http_proxy_port=self.http_proxy_port,
                http_proxy_auth=self.http_proxy_auth,
                proxy_type=self.proxy_type,
            )
        except Exception as e:
            self.logger.exception(f"Socket Mode session failed: {e}")
            session.close()

    def _retire_others(self, keep: websocket.WebSocketApp | None) -> None:
        with self._retiring_lock:
            retiring, self._retiring = [s for s in self._retiring if s is not keep], []
        for session in retiring:
            session.keep_running = False
            if session.sock is not None:
                session.sock.abort()  # shut down, not closed: its reader wakes on the EOF and ends
            else:
                session.close()

    def _run_current_session(self) -> None:
        """Sessions run on their own threads (``connect``); the parent's runner has nothing to do."""

    def _monitor_current_session(self) -> None:
        if self.current_session is not None and self.current_session.sock is None:
            if time.monotonic() - self._session_started < SESSION_START_GRACE:
                return  # still opening
        super()._monitor_current_session()

    def issue_new_wss_url(self) -> str:
        """The parent's, without its error log: a refused token is reported once, by the caller
        (`flywheel serve` prints one line; a failed reconnect is logged where it is retried)."""
        try:
            return str(self.web_client.apps_connections_open(app_token=self.app_token)["url"])
        except SlackApiError as e:
            if e.response["error"] != "ratelimited":
                raise
            delay = int(e.response.headers.get("Retry-After", "30"))
            self.logger.info(f"apps.connections.open is rate limited; retrying in {delay} s")
            time.sleep(delay)
            return self.issue_new_wss_url()

    # ---- acks ---------------------------------------------------------------------------------

    def _session_ready(self) -> bool:
        session = self.current_session
        return session is not None and session.sock is not None and bool(session.sock.connected)

    def send_message(self, message: str) -> None:
        deadline = time.monotonic() + ACK_WAIT_FOR_SESSION
        while not self._session_ready() and time.monotonic() < deadline and not self.closed:
            time.sleep(0.01)
        super().send_message(message)

    def close(self) -> None:
        super().close()
        self._retire_others(keep=None)


class WebSocketClientHandler(BaseSocketModeHandler):
    """Bolt's websocket-client Socket Mode handler, on ``SocketModeClient``."""

    def __init__(
        self,
        app: App,
        app_token: str,
        *,
        ping_interval: float = PING_INTERVAL,
        ping_timeout: float = PING_TIMEOUT,
        concurrency: int = 10,
    ) -> None:
        self.app = app
        self.app_token = app_token
        self.client = SocketModeClient(
            app_token=app_token,
            logger=app.logger,
            web_client=app.client,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            concurrency=concurrency,
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]

    def handle(self, client: Any, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.time()
        send_response(client, req, run_bolt_app(self.app, req), started)


def socket_mode_handler(
    app: App, app_token: str, *, ping_interval: float = PING_INTERVAL, ping_timeout: float = PING_TIMEOUT
) -> BaseSocketModeHandler:
    """The Socket Mode handler Flywheel runs. ``connect()`` it (returns; it reconnects on its own
    from then on) and ``close()`` it to leave."""
    handler = WebSocketClientHandler(app, app_token, ping_interval=ping_interval, ping_timeout=ping_timeout)
    # websocket-client logs every lost connection as an error ("… - goodbye"); losing one is
    # routine in Socket Mode, and the client says so itself (INFO) as it reconnects. (Set after
    # the client is made: its constructor resets this logger's level.)
    logging.getLogger("websocket").setLevel(logging.CRITICAL)
    return handler
