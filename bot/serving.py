"""Run the ASGI app on uvicorn: in the foreground for `serve`, in a thread for the demo and tests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette


@dataclass
class RunningServer:
    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_in_thread(asgi: Starlette, *, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Bind (port 0 → any free port), wait until it listens, and return its base URL."""
    config = uvicorn.Config(asgi, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="flywheel-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the HTTP server did not start")
        time.sleep(0.01)
    sock = server.servers[0].sockets[0]
    bound_port = sock.getsockname()[1]
    return RunningServer(server=server, thread=thread, url=f"http://{host}:{bound_port}")


def serve_forever(asgi: Starlette, *, port: int, log_level: str) -> None:
    uvicorn.run(
        asgi,
        host="0.0.0.0",
        port=port,
        log_level=log_level.lower(),
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=10,
    )
