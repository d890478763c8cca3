"""The scheduler: APScheduler running every registered job, on one leader among replicas.

Features register periodic work with `ctx.add_job(Job(name, every, run))` (`bot/jobs.py`);
`Scheduler(ctx, client).start()` runs those jobs — in `flywheel serve` (HTTP and Socket Mode) and
the interactive demo — but only while this process is the **leader**:

* PostgreSQL: the leader holds a session-level advisory lock on a dedicated connection (not one
  from the pool), keyed by the schema, so the lock dies with the process or its connection. The
  others try again every `LEADER_RETRY` seconds, so a dead leader is replaced within that time
  (PostgreSQL drops a killed client's session at once; TCP keepalives bound a vanished host).
* SQLite: the leader holds an exclusive `flock` on `<database>.scheduler.lock` next to the
  database file; the kernel releases it when the process dies.

The leader checks its lock every `HEARTBEAT` seconds; on losing it, it stops scheduling (a job
already running finishes — correctness never rests on the lock: every effect is claimed first,
`bot/common/delivery.py`). APScheduler only fires jobs here, from an in-memory job store: its job
stores are never shared between processes (its own FAQ says they cannot be), and the schedules
that matter — digest subscriptions — live in our tables, with APScheduler's triggers computing
their fire times (`bot/digests/schedule.py`). The `scheduler_leader` row says who leads, since
when, and counts terms, for operators and tests.

Tests do not start a scheduler for feature work: they call `bot.jobs.run_all(ctx, client)` or a
job function with a frozen `ctx.clock`.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from apscheduler.executors.pool import ThreadPoolExecutor as ApsThreadPool
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import create_engine, update
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from bot.common import delivery
from bot.jobs import Job, run_job
from storage.models.digests import SchedulerLeader
from storage.types import utcnow

if TYPE_CHECKING:
    from bot.context import AppContext

log = logging.getLogger(__name__)

LEADER_RETRY = 5.0  # seconds between a follower's attempts to take the lock
HEARTBEAT = 5.0  # seconds between the leader's checks that it still holds the lock
LOCK_CLASS = 0x46_57_53  # advisory lock key 1 ("FWS"); key 2 is the schema's hash
JOB_WORKERS = 4

_leading: contextvars.ContextVar[bool] = contextvars.ContextVar("flywheel_leading", default=False)


def running_as_leader() -> bool:
    """True inside a job that the leader's scheduler is running (False in tests and `jobs`)."""
    return _leading.get()


# ---- leader locks --------------------------------------------------------------------------------


class LeaderLock(Protocol):
    def try_acquire(self) -> bool: ...

    def held(self) -> bool:
        """Still ours? (False when the connection or file behind it is gone.)"""
        ...

    def release(self) -> None: ...


class PostgresLock:
    """`pg_try_advisory_lock` on a connection of its own, with TCP keepalives."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(
            url,
            poolclass=NullPool,
            connect_args={
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 3,
            },
        )
        self.conn: Connection | None = None

    def try_acquire(self) -> bool:
        try:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except Exception as exc:
            log.warning("scheduler: cannot reach the database for the leader lock: %s", exc)
            return False
        try:
            got = conn.exec_driver_sql(
                f"SELECT pg_try_advisory_lock({LOCK_CLASS}, hashtext(current_schema()))"
            ).scalar()
        except Exception:
            log.exception("scheduler: the advisory lock query failed")
            conn.close()
            return False
        if not got:
            conn.close()
            return False
        self.conn = conn
        return True

    def held(self) -> bool:
        if self.conn is None:
            return False
        try:
            self.conn.exec_driver_sql("SELECT 1").scalar()
            return True
        except Exception:
            self._drop()
            return False

    def _drop(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
            self.conn = None

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.exec_driver_sql(
                    f"SELECT pg_advisory_unlock({LOCK_CLASS}, hashtext(current_schema()))"
                )
            except Exception:
                pass
        self._drop()
        self.engine.dispose()


class FileLock:
    """An exclusive, non-blocking `flock` on a file next to the SQLite database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{delivery.OWNER}\n".encode())
        self.fd = fd
        return True

    def held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            import fcntl

            try:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                os.close(self.fd)
                self.fd = None


class SoleLeader:
    """An in-memory SQLite database belongs to one process: it always leads."""

    def __init__(self) -> None:
        self._held = False

    def try_acquire(self) -> bool:
        self._held = True
        return True

    def held(self) -> bool:
        return self._held

    def release(self) -> None:
        self._held = False


def lock_for(url: str) -> LeaderLock:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return PostgresLock(url)
    database = parsed.database or ""
    if not database or database == ":memory:" or "mode=memory" in url:
        return SoleLeader()
    try:
        import fcntl  # noqa: F401
    except ImportError:  # no flock here (Windows): one process per SQLite file is the rule anyway
        log.warning("scheduler: no file locking on this platform; this process leads")
        return SoleLeader()
    return FileLock(Path(database).with_name(Path(database).name + ".scheduler.lock"))


# ---- the scheduler -------------------------------------------------------------------------------


class Scheduler:
    """Leader election plus APScheduler; `start()` returns at once, `stop()` releases the lock."""

    def __init__(
        self,
        ctx: AppContext,
        client: Any,
        *,
        lock: LeaderLock | None = None,
        retry: float = LEADER_RETRY,
        heartbeat: float = HEARTBEAT,
    ) -> None:
        self.ctx = ctx
        self.client = client
        self.lock = lock or lock_for(ctx.db.url)
        self.retry = retry
        self.heartbeat = heartbeat
        self.term: int | None = None
        self.became_leader_at: float | None = None  # time.monotonic()
        self._stop = threading.Event()
        self._leader = threading.Event()
        self._scheduled: set[str] = set()
        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per run is noise
        self.aps = BackgroundScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": ApsThreadPool(max_workers=JOB_WORKERS)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
            timezone=UTC,
        )
        self._thread = threading.Thread(target=self._loop, name="flywheel-scheduler", daemon=True)

    # -- lifecycle --

    def start(self) -> Scheduler:
        self.aps.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop scheduling, let running jobs finish, then give up the lock (a follower takes over)."""
        self._stop.set()
        self._thread.join(timeout=15)
        if self.aps.running:
            self.aps.shutdown(wait=True)
        if self._leader.is_set():
            self._leader.clear()
            self.lock.release()
            log.info("scheduler: stopped; leadership released")

    @property
    def is_leader(self) -> bool:
        return self._leader.is_set()

    def wait_for_leadership(self, timeout: float) -> bool:
        return self._leader.wait(timeout)

    # -- the leader loop --

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if not self._leader.is_set():
                    if self.lock.try_acquire():
                        self._lead()
                elif not self.lock.held():
                    self._follow("the lock was lost (database connection gone)")
                else:
                    self._sync_jobs(first_run=timedelta(seconds=1))
                    self._record(heartbeat_only=True)
            except Exception:
                log.exception("scheduler: leader loop error")
            self._stop.wait(self.heartbeat if self._leader.is_set() else self.retry)

    def _lead(self) -> None:
        self._leader.set()
        self.became_leader_at = time.monotonic()
        self.term = self._record(heartbeat_only=False)
        log.info(
            "scheduler: %s is now the leader (term %s); running %d jobs",
            delivery.OWNER,
            self.term,
            len(self.ctx.jobs),
        )
        # Every job runs at once on taking over: that is the start-up catch-up (missed digests…).
        self._sync_jobs(first_run=timedelta(0))

    def _follow(self, why: str) -> None:
        log.warning("scheduler: no longer the leader: %s", why)
        self._leader.clear()
        self.aps.remove_all_jobs()
        self._scheduled.clear()
        self.lock.release()

    def _sync_jobs(self, *, first_run: timedelta) -> None:
        """Schedule every registered job not yet scheduled (features may register late)."""
        now = datetime.now(UTC)
        for job in list(self.ctx.jobs):
            if job.name in self._scheduled:
                continue
            self.aps.add_job(
                self._run,
                IntervalTrigger(seconds=max(1.0, job.every.total_seconds()), timezone=UTC),
                args=[job],
                id=job.name,
                name=job.name,
                next_run_time=now + first_run,
                replace_existing=True,
            )
            self._scheduled.add(job.name)

    def _run(self, job: Job) -> None:
        if not self._leader.is_set() or self._stop.is_set():
            return
        token = _leading.set(True)
        try:
            run_job(self.ctx, self.client, job)
        finally:
            _leading.reset(token)

    def _record(self, *, heartbeat_only: bool) -> int | None:
        """Write who leads into `scheduler_leader`; a new term on taking over."""
        now = utcnow()
        try:
            with self.ctx.db.session() as s:
                row = s.get(SchedulerLeader, 1)
                if row is None:
                    row = SchedulerLeader(id=1, term=0)
                if heartbeat_only:
                    if row.holder != delivery.OWNER:
                        return row.term
                    s.execute(update(SchedulerLeader).where(SchedulerLeader.id == 1).values(heartbeat_at=now))
                    return row.term
                row.term += 1
                row.holder, row.acquired_at, row.heartbeat_at = delivery.OWNER, now, now
                s.add(row)
                return row.term
        except Exception:
            log.exception("scheduler: could not record the leader")
            return None
