"""Periodic jobs that features register (SLA watcher, reminders, review DMs, digests…).

A feature adds a `Job` with `ctx.add_job(...)`; `JobRunner` runs every registered job on its
interval in one background thread for `flywheel serve` and the demo. Jobs must be idempotent:
whatever they announce is claimed first through `bot.common.delivery.claim`, so a restart, a
second replica or an early run never announces anything twice. Tests do not start the runner;
they call `run_due(ctx, client)` or `run_job(...)` with a frozen `ctx.clock`.

This is deliberately small: the scheduler (`bot/scheduler.py`) takes these same registrations
and runs them on one leader among replicas.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)

# `run(ctx, client)`: `client` is the Web API client (slack_sdk WebClient).
JobFn = Callable[["AppContext", Any], None]


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: JobFn


def run_job(ctx: AppContext, client: Any, job: Job) -> bool:
    """Run one job now; a failure is logged (never raised) so one job cannot stop the others."""
    try:
        job.run(ctx, client)
        return True
    except Exception:
        log.exception("job %s failed", job.name)
        return False


def run_all(ctx: AppContext, client: Any) -> int:
    """Run every registered job once, now (tests, and the demo's `jobs` command). Returns failures."""
    return sum(not run_job(ctx, client, job) for job in list(ctx.jobs))


class JobRunner:
    """One daemon thread: each job runs when its interval has passed (real time, not ctx.clock)."""

    def __init__(self, ctx: AppContext, client: Any, *, tick: float = 1.0) -> None:
        self.ctx = ctx
        self.client = client
        self.tick = tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="flywheel-jobs", daemon=True)

    def start(self) -> JobRunner:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        import time

        next_at: dict[str, float] = {}
        while not self._stop.is_set():
            now = time.monotonic()
            for job in list(self.ctx.jobs):
                due = next_at.setdefault(job.name, now + min(5.0, job.every.total_seconds()))
                if now >= due:
                    run_job(self.ctx, self.client, job)
                    next_at[job.name] = time.monotonic() + job.every.total_seconds()
            self._stop.wait(self.tick)
