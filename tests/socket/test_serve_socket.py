"""`flywheel serve` in Socket Mode as deployed: a real process with SLACK_APP_TOKEN, connecting to
the simulator's WebSocket, answering there, reconnecting, serving /healthz and /metrics on PORT,
and closing its connection on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.simulator import Simulator

APP_TOKEN = "xapp-1-serve"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(sim: Simulator, tmp_path: Path, app_token: str, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FLYWHEEL_", "OPENAI_"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-serve",
        SLACK_APP_TOKEN=app_token,  # no signing secret: Socket Mode does not need one
        SLACK_API_URL=sim.api_url,
        DATABASE_URL=f"sqlite:///{tmp_path}/serve.db",
        PORT=str(port),
        LOG_LEVEL="INFO",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def sim() -> Iterator[Simulator]:
    sim = Simulator(signing_secret="unused", bot_token="xoxb-serve", app_token=APP_TOKEN).start()
    sim.add_user("U0ZED", "zed", real_name="Zed Shaw", email="zed@example.com")
    sim.add_channel("C0ONE", "one", members=["U0ZED"])
    yield sim
    sim.stop()


def test_serve_in_socket_mode_answers_reconnects_and_closes_on_sigterm(
    sim: Simulator, tmp_path: Path
) -> None:
    port = _free_port()
    proc = _serve(sim, tmp_path, APP_TOKEN, port)
    base = f"http://127.0.0.1:{port}"
    assert sim.socket is not None
    try:
        try:
            first = sim.socket.wait_for_connection(timeout=30)
        except TimeoutError:
            proc.kill()
            pytest.fail(f"flywheel serve did not connect: {(proc.communicate()[0] or '')[-2000:]}")
        delivery = sim.command("U0ZED", "/okr", "help", channel_id="C0ONE")
        assert delivery.ok and delivery.transport == "socket"
        assert "/okr checkin" in sim.render_output(sim.take_outputs()[0])

        # Health and metrics on PORT; no HTTP events endpoint in Socket Mode.
        assert httpx.get(f"{base}/healthz", timeout=5).json() == {"status": "ok", "db": "ok"}
        assert 'flywheel_slack_requests_total{kind="command"}' in httpx.get(f"{base}/metrics", timeout=5).text
        assert httpx.post(f"{base}/slack/events", content=b"{}", timeout=5).status_code == 404

        started = time.monotonic()
        sim.socket.drop(connection=first)
        second = sim.socket.wait_for_connection(newer_than=first.id, timeout=10)
        print(f"\nflywheel serve reconnected {second.opened_at - started:.2f} s after a dropped connection")
        assert sim.command("U0ZED", "/okr", "help", channel_id="C0ONE").ok

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert sim.wait_for(lambda: second.state == "closed")  # closed by the bot, not left to time out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_a_refused_app_token_is_one_clear_line(sim: Simulator, tmp_path: Path) -> None:
    proc = _serve(sim, tmp_path, "xapp-1-not-this-one", _free_port())
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "flywheel: SLACK_APP_TOKEN was refused by Slack (invalid_auth)" in out
    assert "Traceback" not in out
