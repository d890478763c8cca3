"""`flywheel serve` as deployed: a real process on uvicorn, migrating first, answering Slack."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, create_engine, select

from bot.simulator import Simulator
from storage.models import Person

SECRET = "serve-test-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Simulator, str, Path]]:
    sim = Simulator(signing_secret=SECRET, bot_token="xoxb-serve").start()
    sim.add_user("U0ZED", "zed", real_name="Zed Shaw", email="zed@example.com", tz="Europe/Paris")
    sim.add_channel("C0ONE", "one", members=["U0ZED"])
    port = _free_port()
    db_file = tmp_path / "serve.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FLYWHEEL_", "OPENAI_"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-serve",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=sim.api_url,
        DATABASE_URL=f"sqlite:///{db_file}",
        PORT=str(port),
        LOG_LEVEL="WARNING",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read() if proc.stdout else ""
                pytest.fail(f"flywheel serve did not come up: {out[-2000:]}")
            time.sleep(0.1)
        sim.bot_url = f"{base}/slack/events"
        yield sim, base, db_file
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        sim.stop()


def test_serve_migrates_answers_a_signed_command_and_remembers_the_user(served) -> None:  # type: ignore[no-untyped-def]
    sim, base, db_file = served
    delivery = sim.command("U0ZED", "/okr", "help", channel_id="C0ONE")
    assert delivery.status == 200
    assert "/okr checkin" in sim.render_output(sim.take_outputs()[0])
    assert httpx.post(f"{base}/slack/events", content=b"token=x&command=/okr", timeout=5).status_code == 401
    engine = create_engine(f"sqlite:///{db_file}")
    with Session(engine) as s:
        zed = s.exec(select(Person).where(Person.slack_id == "U0ZED")).one()
    engine.dispose()
    assert (zed.real_name, zed.email, zed.tz) == ("Zed Shaw", "zed@example.com", "Europe/Paris")
    assert "flywheel_slack_requests_total" in httpx.get(f"{base}/metrics", timeout=5).text
