"""Periodic jobs that features register (SLA watcher, reminders, review DMs, digests…).

A feature adds a `Job` with `ctx.add_job(...)`; the scheduler (`bot/scheduler.py`) runs every
registered job on its interval, on the one leader among replicas, in `flywheel serve` and the
interactive demo. Jobs must be idempotent: whatever they announce is claimed first through
`bot.common.delivery.claim`, so a restart, a second replica or an early run never announces
anything twice. Tests do not start the scheduler; they call `run_all(ctx, client)` or
`run_job(...)` with a frozen `ctx.clock`, and the demo's `jobs` command calls `run_all`.
"""

from __future__ import annotations

import logging
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


def __getattr__(name: str) -> Any:
    """`JobRunner` was the single-process runner before the scheduler; it is the scheduler now."""
    if name == "JobRunner":
        from bot.scheduler import Scheduler

        return Scheduler
    raise AttributeError(name)
