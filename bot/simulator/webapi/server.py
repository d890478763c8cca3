"""The HTTP server of the Web API stand-in: ``/api/<method>`` and ``/response/<id>`` on loopback.

It runs on ``http.server.ThreadingHTTPServer`` in a daemon thread: no event loop to share with
the bot, one thread per request, so concurrent calls (lazy listeners, retries) are served.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.simulator.webapi import SlackWebApi

JSON_FIELDS = {"blocks", "view", "attachments", "metadata"}


def parse_params(query: str, content_type: str, body: bytes) -> dict[str, Any]:
    """Merge query-string and body parameters; decode JSON-encoded fields of form bodies."""
    params: dict[str, Any] = {
        k: v[-1] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()
    }
    if body:
        if "application/json" in content_type:
            data = json.loads(body.decode("utf-8"))
            if isinstance(data, dict):
                params.update(data)
        else:
            form = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
            params.update({k: v[-1] for k, v in form.items()})
    for key in JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value.strip()[:1] in {"[", "{"}:
            try:
                params[key] = json.loads(value)
            except ValueError:
                pass
    return params


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silence the default stderr access log; calls are recorded in ``sim.calls``."""

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        api = self.server.api
        api.recorder.touch()
        parsed = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            if parsed.path.startswith("/api/"):
                params = parse_params(parsed.query, self.headers.get("Content-Type", ""), body)
                status, headers, answer = api.dispatch(
                    parsed.path[5:], params, self.headers.get("Authorization")
                )
                self._send(status, answer, headers)
            elif parsed.path.startswith("/response/") and self.command == "POST":
                payload = json.loads(body.decode("utf-8") or "{}")
                status, answer = api.post_response(parsed.path[10:], payload)
                self._send(status, answer)
            else:
                self._send(404, {"ok": False, "error": "not_found"})
        except ValueError:
            self._send(400, {"ok": False, "error": "invalid_json"})
        finally:
            api.recorder.touch()

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._handle()

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        self._handle()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the listen backlog: dozens of callers at once (digest fan-out)

    def __init__(self, api: SlackWebApi) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api


class WebApiServer:
    """Runs SlackWebApi on 127.0.0.1 with an OS-assigned port in a background thread."""

    def __init__(self, api: SlackWebApi) -> None:
        self.api = api
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._server = _Server(self.api)
        self.api.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-sim-webapi",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
