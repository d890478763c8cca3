"""Benchmark (not a test): how fast each Socket Mode client is back after Slack drops it.

    .venv/bin/python bench/socket_reconnect.py [--runs 3] [--cap 75] [--clients a,b] [--cases x,y]

The Slack simulator (in this process) serves apps.connections.open and the Socket Mode
WebSocket. For every client and case, each run starts a bare Bolt app in its own process
(acknowledge-only listeners, `process_before_response=True`), waits for its connection, then:

- `refresh`: Slack sends `disconnect` (reason refresh_requested) and closes the old connection;
- `drop`:    Slack closes the TCP connection without a word (no close frame, no disconnect);
- `silent`:  Slack stops answering — no FIN, no frames, no pongs (a half-open link, as after a
             NAT timeout or a dead load balancer): only the client's own pings can notice;

at a random moment of the clients' ping cycles, and reports the time until the app's next
connection has received `hello` (min / median / max over the runs; `>cap` when it did not
reconnect within --cap seconds) and the CPU the app's process burned meanwhile. Clients:

- `builtin`:  Bolt's default `SocketModeHandler` (slack_sdk's built-in client), ping every 10 s
- `builtin-3s`: the same, with a ping every 3 s (tuning it instead of replacing it)
- `wsclient`: `slack_bolt.adapter.socket_mode.websocket_client.SocketModeHandler` as shipped
- `flywheel`: what `flywheel serve` runs (`bot/socket_mode.py`: websocket-client with a pong
              deadline, ping every 3 s, pong within 1 s)
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BOT_TOKEN = "xoxb-bench"
APP_TOKEN = "xapp-1-bench"
CLIENTS = ("builtin", "builtin-3s", "wsclient", "flywheel")
CASES = ("refresh", "drop", "silent")


def run_app(api_url: str, client: str) -> None:
    """The app process: a bare Bolt app connected in Socket Mode with the given client."""
    import logging
    import threading

    from slack_bolt import App
    from slack_sdk import WebClient

    logging.basicConfig(level=logging.CRITICAL)
    app = App(
        client=WebClient(token=BOT_TOKEN, base_url=api_url),
        process_before_response=True,
        request_verification_enabled=False,
    )

    @app.command("/okr")
    def okr(ack):  # type: ignore[no-untyped-def]
        ack("ok")

    @app.event("app_mention")
    def mention() -> None:
        return None

    if client == "wsclient":
        from slack_bolt.adapter.socket_mode.websocket_client import SocketModeHandler

        handler = SocketModeHandler(app, APP_TOKEN)
    elif client.startswith("builtin"):
        from slack_bolt.adapter.socket_mode import SocketModeHandler as Builtin

        handler = Builtin(app, APP_TOKEN, **({"ping_interval": 3} if client == "builtin-3s" else {}))
    else:
        from bot.socket_mode import socket_mode_handler

        handler = socket_mode_handler(app, APP_TOKEN)
    handler.connect()
    threading.Event().wait()


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def one_run(sim, client: str, case: str, cap: float) -> tuple[float | None, float | None]:  # type: ignore[no-untyped-def]
    ctx = mp.get_context("spawn")
    before = max((c.id for c in sim.socket.connections), default=0)
    proc = ctx.Process(target=run_app, args=(sim.api_url, client), daemon=True)
    proc.start()
    try:
        first = sim.socket.wait_for_connection(newer_than=before, timeout=30)
        # Settled (first pings exchanged), then a random moment within the clients' ping cycles,
        # so that the runs sample every phase of a ping interval rather than always the same one.
        time.sleep(1.0 + random.uniform(0, 10))
        cpu0 = cpu_seconds(proc.pid or 0)
        started = time.monotonic()
        if case == "refresh":
            sim.socket.disconnect("refresh_requested", connection=first)
        else:
            sim.socket.drop(connection=first, silent=case == "silent")
        try:
            again = sim.socket.wait_for_connection(newer_than=first.id, timeout=cap)
            elapsed: float | None = again.opened_at - started
        except TimeoutError:
            elapsed = None
        cpu1 = cpu_seconds(proc.pid or 0)
        cpu = None if cpu0 is None or cpu1 is None else cpu1 - cpu0
        return elapsed, cpu
    finally:
        proc.kill()
        proc.join(timeout=5)


def fmt(values: list[float | None], cap: float) -> str:
    shown = [v if v is not None else float("inf") for v in values]
    parts = [min(shown), statistics.median(shown), max(shown)]
    return " / ".join(f">{cap:.0f}" if p == float("inf") else f"{p:.2f}" for p in parts)


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cap", type=float, default=75.0, help="give up waiting after this many seconds")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--cases", default=",".join(CASES))
    args = parser.parse_args()
    clients = [c for c in args.clients.split(",") if c]
    cases = [c for c in args.cases.split(",") if c]
    for name in clients + cases:
        if name not in CLIENTS + CASES:
            parser.error(f"unknown client or case {name!r}")

    import slack_bolt
    import slack_sdk
    import websocket

    from bot.simulator import Simulator

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"slack_bolt {slack_bolt.version.__version__}, slack_sdk {slack_sdk.version.__version__}, "
        f"websocket-client {websocket.__version__}"
    )
    print(f"seconds until the app's new connection has hello — min / median / max of {args.runs} runs")
    print(f"{'client':<12} {'case':<8} {'reconnect (s)':<22} {'CPU meanwhile (s)':<18}")
    with Simulator(signing_secret="unused", bot_token=BOT_TOKEN, app_token=APP_TOKEN) as sim:
        for client in clients:
            for case in cases:
                results = [one_run(sim, client, case, args.cap) for _ in range(args.runs)]
                times = [r[0] for r in results]
                cpus = [r[1] for r in results if r[1] is not None]
                cpu = f"{statistics.median(cpus):.2f}" if cpus else "n/a"
                print(f"{client:<12} {case:<8} {fmt(times, args.cap):<22} {cpu:<18}", flush=True)


if __name__ == "__main__":
    main()
