"""Real `flywheel serve` processes against the Slack simulator, for failover and crash tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import update

from bot.digests import service
from bot.digests.parse import DigestKind
from bot.digests.schedule import Rule
from bot.simulator import Simulator
from storage.db import Database
from storage.models.digests import DigestSubscription
from storage.types import utcnow

SECRET = "serve-test-secret"
TOKEN = "xoxb-serve"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def simulator() -> Simulator:
    sim = Simulator(signing_secret=SECRET, bot_token=TOKEN).start()
    sim.add_user("U0ZED", "zed", real_name="Zed Shaw", tz="Europe/Paris")
    sim.add_channel("C0ONE", "one", members=["U0ZED"])
    return sim


class Serve:
    """One `flywheel serve` process (HTTP mode) on a free port."""

    def __init__(self, sim: Simulator, database_url: str, cwd: Path) -> None:
        self.port = free_port()
        self.log = cwd / f"serve-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FLYWHEEL_", "OPENAI_"))}
        env.update(
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=sim.api_url,
            DATABASE_URL=database_url,
            PORT=str(self.port),
            LOG_LEVEL="INFO",
            FLYWHEEL_LLM="off",
        )
        self._out = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve"],
            env=env,
            cwd=cwd,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"flywheel serve did not come up:\n{self.output()[-3000:]}")
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: no clean-up, no atexit — the process is simply gone."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=15)
        self._out.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if not self._out.closed:
            self._out.close()


def due_now(db: Database, channel: str = "C0ONE", *, minute: int = 0, late_seconds: float = 0) -> int:
    """A daily OKR digest whose next run is now (minus `late_seconds`): due at the next tick."""
    now = utcnow()
    with db.session() as s:
        sub = service.add(
            db_session=s,
            channel_id=channel,
            kind=DigestKind.OKR,
            rule=Rule("daily", clock_time((now.hour + 12) % 24, minute), ZoneInfo("UTC")),
            actor_id="U0ZED",
            now=now,
        )
        s.flush()
        s.execute(
            update(DigestSubscription)
            .where(DigestSubscription.id == sub.id)
            .values(next_run_at=now - timedelta(seconds=late_seconds))
        )
        return sub.id or 0
