"""Socket Mode: Slack's WebSocket end, served on loopback by the simulator.

``apps.connections.open`` (with the app-level ``xapp-`` token) hands the app a single-use
``ws://127.0.0.1:…/link/?ticket=…`` URL; the app connects, gets ``hello``, and from then on
every command, event and interaction arrives as an envelope on the socket and must be
acknowledged with its ``envelope_id`` (and, where Slack accepts one, a response payload: a
command's reply, a ``response_action``, a menu's options). As with Slack:

- each envelope goes to one live connection (round-robin here; Slack allows ten per app), and
  its ack is taken from whichever connection sends it (clients ack on their newest one);
- an Events API envelope that is not acknowledged within 3 s is delivered again
  (``retry_attempt`` 1…3, to any live connection, once there is one); a command or an
  interaction is not retried — the user sees Slack's error instead;
- ``disconnect`` asks the app to move to a new connection (``refresh_requested``,
  ``link_disabled``, ``warning``); the old one is closed a moment later;
- ``drop()`` ends a connection without a word: the TCP link closes, or with ``silent=True``
  Slack simply stops answering (a half-open link, which only the client's pings can detect).

The server is ``websockets`` on its own asyncio loop in a daemon thread; the player calls
``deliver`` from the test's (or demo's) thread and waits for the acknowledgement.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
import secrets
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from bot.simulator.workspace import APP_ID

ACK_DEADLINE_SECONDS = 3.0
ACK_GRACE_SECONDS = 0.5  # a late ack is still read (and timed) this long after the deadline
EVENT_RETRIES = 3  # Slack retries an unacknowledged event three times
MAX_CONNECTIONS = 10  # Slack's limit per app
TICKET_TTL_SECONDS = 30.0
CLOSE_AFTER_DISCONNECT_SECONDS = 2.0


class NoConnection(Exception):
    """No live Socket Mode connection to deliver to."""


class TooManyConnections(Exception):
    """The app already has Slack's maximum of open connections."""


@dataclass
class SocketConnection:
    """One WebSocket the app opened. ``state``: open → draining (told to reconnect) → closed,
    or silent (Slack stopped answering: no close, no frames, no acks)."""

    id: int
    opened_at: float  # time.monotonic() when hello was sent
    state: str = "open"
    closed_at: float | None = None
    acks: int = 0  # acknowledgements received on this connection
    _ws: ServerConnection | None = field(default=None, repr=False)

    @property
    def live(self) -> bool:
        return self.state == "open"


@dataclass
class Exchange:
    """One envelope's fate: what was sent last, the ack (if any), and every attempt."""

    envelope: dict[str, Any]
    acked: bool = False
    payload: dict[str, Any] | None = None
    elapsed: float = 0.0  # from the first send to the ack (or to giving up)
    attempts: list[tuple[int, str]] = field(default_factory=list)  # (connection id, outcome)

    @property
    def envelope_id(self) -> str:
        return str(self.envelope.get("envelope_id", ""))


class SocketModeServer:
    """Slack's Socket Mode endpoint for one app: tickets, connections, envelopes and acks."""

    def __init__(self, *, app_id: str = APP_ID, connect_wait: float = 10.0) -> None:
        self.app_id = app_id
        self.connect_wait = connect_wait  # how long an event waits for a live connection
        self.connections: list[SocketConnection] = []
        self._pending: dict[str, concurrent.futures.Future[dict[str, Any]]] = {}
        self._tickets: dict[str, float] = {}
        self._ids = itertools.count(1)
        self._turn = itertools.count()
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(self._serve())
                self._port = int(self._server.sockets[0].getsockname()[1])
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="slack-sim-socket", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise RuntimeError(f"the Socket Mode server did not start: {failure[0]}")

    async def _serve(self) -> Server:
        # No server-side keepalive: the clients ping, and a silent drop must stay silent.
        return await serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._check_ticket,
            ping_interval=None,
            close_timeout=1,
            compression=None,
        )

    def stop(self) -> None:
        loop, server = self._loop, self._server
        if loop is None or server is None:
            return

        async def shutdown() -> None:
            for conn in self.connections:
                if conn._ws is not None and conn.state != "closed":
                    conn._ws.transport.abort()
            server.close(close_connections=False)
            await server.wait_closed()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=5)
        except (concurrent.futures.TimeoutError, RuntimeError):
            pass
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._loop = self._server = self._thread = None

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("the Socket Mode server is not started")
        return self._port

    # ---- apps.connections.open ------------------------------------------------------------------

    def new_url(self) -> str:
        """A single-use WebSocket URL, as ``apps.connections.open`` returns it."""
        with self._cond:
            if sum(1 for c in self.connections if c.state in {"open", "draining"}) >= MAX_CONNECTIONS:
                raise TooManyConnections()
            ticket = secrets.token_hex(16)
            self._tickets[ticket] = time.monotonic()
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    def _check_ticket(self, connection: ServerConnection, request: Request) -> Response | None:
        parsed = urllib.parse.urlsplit(request.path)
        ticket = (urllib.parse.parse_qs(parsed.query).get("ticket") or [""])[0]
        with self._cond:
            issued = self._tickets.pop(ticket, None)
        if parsed.path.rstrip("/") != "/link" or issued is None:
            return _reject(HTTPStatus.UNAUTHORIZED, "invalid or used ticket")
        if time.monotonic() - issued > TICKET_TTL_SECONDS:
            return _reject(HTTPStatus.UNAUTHORIZED, "expired ticket")
        return None

    # ---- one connection -------------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        with self._cond:
            conn = SocketConnection(id=next(self._ids), opened_at=0.0, _ws=ws)
            self.connections.append(conn)
            live = sum(1 for c in self.connections if c.live and c.opened_at) + 1
        hello = {
            "type": "hello",
            "num_connections": live,
            "debug_info": {
                "host": f"applink-sim-{conn.id}",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }
        try:
            await ws.send(json.dumps(hello))
            with self._cond:
                conn.opened_at = time.monotonic()
                self._cond.notify_all()
            async for raw in ws:
                self._received(conn, raw)
        except ConnectionClosed:
            pass
        finally:
            self._closed(conn)

    def _received(self, conn: SocketConnection, raw: str | bytes) -> None:
        if conn.state == "silent":
            return
        try:
            message = json.loads(raw)
        except ValueError:
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        with self._cond:
            waiting = self._pending.pop(str(envelope_id), None)
            if waiting is not None:
                conn.acks += 1
        if waiting is not None and not waiting.done():
            payload = message.get("payload")
            waiting.set_result(payload if isinstance(payload, dict) else {})

    def _closed(self, conn: SocketConnection) -> None:
        with self._cond:
            if conn.state != "closed":
                conn.state = "closed"
                if conn.closed_at is None:
                    conn.closed_at = time.monotonic()
            self._cond.notify_all()

    # ---- state ----------------------------------------------------------------------------------

    def live(self) -> list[SocketConnection]:
        with self._cond:
            return [c for c in self.connections if c.live and c.opened_at]

    def wait_for_connection(self, *, newer_than: int = 0, timeout: float = 10.0) -> SocketConnection:
        """The first live connection with an id above ``newer_than`` (after hello), waiting for it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.connections if c.live and c.opened_at and c.id > newer_than]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no new Socket Mode connection within {timeout} s")
                self._cond.wait(left)

    # ---- delivery -------------------------------------------------------------------------------

    def deliver(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool,
        retry_attempt: int = 0,
        retry_reason: str = "",
    ) -> Exchange:
        """Send one envelope and wait for its ack. Events API envelopes wait for a connection and
        are retried like Slack's; a command or an interaction gets one try, on a connection that
        is live now, and an ack later than Slack's 3 s is too late."""
        is_event = kind == "events_api"
        envelope: dict[str, Any] = {
            "envelope_id": str(uuid.uuid4()),
            "payload": payload,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
        }
        if is_event:
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        exchange = Exchange(envelope=envelope)
        started = time.monotonic()
        tries = EVENT_RETRIES + 1 if is_event else 1
        for attempt in range(tries):
            if attempt:
                envelope = dict(envelope, envelope_id=str(uuid.uuid4()))
                envelope["retry_attempt"] = retry_attempt + attempt
                envelope["retry_reason"] = "timeout"
                exchange.envelope = envelope
            try:
                conn = self._pick(wait=self.connect_wait if is_event else 0.0)
            except NoConnection:
                exchange.attempts.append((0, "no connection"))
                break
            outcome = self._send_and_wait(conn, envelope, ACK_DEADLINE_SECONDS + ACK_GRACE_SECONDS, exchange)
            exchange.attempts.append((conn.id, outcome))
            if outcome == "acked":
                break
        exchange.elapsed = time.monotonic() - started
        return exchange

    def _pick(self, *, wait: float) -> SocketConnection:
        deadline = time.monotonic() + wait
        with self._cond:
            while True:
                live = [c for c in self.connections if c.live and c.opened_at]
                # Told to reconnect but not closed yet: still usable while nothing newer is open.
                live = live or [c for c in self.connections if c.state == "draining"]
                if live:
                    return live[next(self._turn) % len(live)]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise NoConnection("the app has no live Socket Mode connection")
                self._cond.wait(left)

    def _send_and_wait(
        self, conn: SocketConnection, envelope: dict[str, Any], wait: float, exchange: Exchange
    ) -> str:
        waiting: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
        envelope_id = envelope["envelope_id"]
        with self._cond:
            self._pending[envelope_id] = waiting
        try:
            self._send(conn, envelope)
            exchange.payload = waiting.result(timeout=wait)
        except (ConnectionClosed, NoConnection, concurrent.futures.TimeoutError) as exc:
            with self._cond:
                self._pending.pop(envelope_id, None)
            return "no ack" if isinstance(exc, concurrent.futures.TimeoutError) else "connection lost"
        exchange.acked = True
        return "acked"

    def _send(self, conn: SocketConnection, message: dict[str, Any]) -> None:
        if conn._ws is None or conn.state in {"closed", "silent"} or self._loop is None:
            raise NoConnection(f"connection {conn.id} is gone")
        text = json.dumps(message)
        asyncio.run_coroutine_threadsafe(conn._ws.send(text), self._loop).result(timeout=5)

    # ---- what Slack does to connections -------------------------------------------------------

    def disconnect(
        self,
        reason: str = "refresh_requested",
        *,
        connection: SocketConnection | None = None,
        close_after: float = CLOSE_AFTER_DISCONNECT_SECONDS,
    ) -> list[SocketConnection]:
        """Send ``disconnect`` to one live connection (or all); close each ``close_after`` s later."""
        targets = [connection] if connection is not None else self.live()
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-sim"}}
        for conn in targets:
            try:
                self._send(conn, message)
            except (ConnectionClosed, NoConnection):
                continue
            with self._cond:
                if conn.state == "open":
                    conn.state = "draining"
            if self._loop is not None and conn._ws is not None:
                asyncio.run_coroutine_threadsafe(_close_later(conn._ws, close_after), self._loop)
        return targets

    def drop(
        self, *, connection: SocketConnection | None = None, silent: bool = False
    ) -> list[SocketConnection]:
        """End connections without a ``disconnect``: close the TCP link at once, or (``silent``)
        stop reading and writing so the link is half-open and only the client's pings notice."""
        targets = [connection] if connection is not None else self.live()
        loop = self._loop
        for conn in targets:
            ws = conn._ws
            if ws is None or loop is None:
                continue
            if silent:
                with self._cond:
                    conn.state = "silent"
                    conn.closed_at = time.monotonic()
                    self._cond.notify_all()
                loop.call_soon_threadsafe(ws.transport.pause_reading)
            else:
                loop.call_soon_threadsafe(ws.transport.abort)
        return targets


async def _close_later(ws: ServerConnection, delay: float) -> None:
    await asyncio.sleep(delay)
    await ws.close()


def _reject(status: HTTPStatus, text: str) -> Response:
    body = (text + "\n").encode()
    headers = Headers([("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return Response(status.value, status.phrase, headers, body)
