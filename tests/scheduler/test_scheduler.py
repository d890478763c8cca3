"""The scheduler: one leader among schedulers sharing a database, failover, jobs run on the leader."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from bot.context import AppContext
from bot.jobs import Job
from bot.scheduler import FileLock, PostgresLock, Scheduler, running_as_leader
from storage.db import Database
from storage.migrate import upgrade
from storage.models.digests import SchedulerLeader

FAST = {"retry": 0.1, "heartbeat": 0.1}


class Recorder:
    def __init__(self) -> None:
        self.runs: list[tuple[str, bool]] = []
        self.lock = threading.Lock()

    def job(self, ctx: AppContext, client: object) -> None:
        with self.lock:
            self.runs.append((str(client), running_as_leader()))

    def by(self, name: str) -> int:
        with self.lock:
            return sum(1 for who, _ in self.runs if who == name)


@pytest.fixture
def contexts(make_settings: Callable[..., object]) -> Iterator[Callable[[str], AppContext]]:
    made: list[AppContext] = []

    def make(url: str) -> AppContext:
        upgrade(url)
        ctx = AppContext(
            settings=make_settings(DATABASE_URL=url), db=Database(url), executor=ThreadPoolExecutor(1)
        )
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.executor.shutdown()
        ctx.db.dispose()


def wait(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.02)


def leader_row(ctx: AppContext) -> SchedulerLeader | None:
    with ctx.db.session() as s:
        return s.get(SchedulerLeader, 1)


def two_schedulers(ctx_a: AppContext, ctx_b: AppContext, rec: Recorder) -> tuple[Scheduler, Scheduler]:
    for ctx in (ctx_a, ctx_b):
        ctx.add_job(Job("tick", timedelta(seconds=1), rec.job))
    a = Scheduler(ctx_a, "A", **FAST).start()
    assert a.wait_for_leadership(5)
    b = Scheduler(ctx_b, "B", **FAST).start()
    return a, b


def check_one_leader_then_failover(ctx_a: AppContext, ctx_b: AppContext) -> None:
    rec = Recorder()
    a, b = two_schedulers(ctx_a, ctx_b, rec)
    try:
        wait(lambda: rec.by("A") >= 2)
        time.sleep(0.5)
        assert a.is_leader and not b.is_leader and rec.by("B") == 0
        assert all(leading for _, leading in rec.runs)  # jobs know they run on the leader
        first = leader_row(ctx_a)
        assert first is not None and first.term >= 1
        started = time.monotonic()
        a.stop()  # the leader goes away: the other takes over
        assert b.wait_for_leadership(5)
        took = time.monotonic() - started
        wait(lambda: rec.by("B") >= 1)
        assert took < 2.0
        second = leader_row(ctx_b)
        assert second is not None and second.term == first.term + 1
    finally:
        a.stop()
        b.stop()


def test_sqlite_one_leader_by_file_lock_and_failover(
    contexts: Callable[[str], AppContext], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/one.db"
    ctx_a, ctx_b = contexts(url), contexts(url)
    check_one_leader_then_failover(ctx_a, ctx_b)
    assert (tmp_path / "one.db.scheduler.lock").exists()


def test_the_file_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    a, b = FileLock(tmp_path / "x.lock"), FileLock(tmp_path / "x.lock")
    assert a.try_acquire() and not b.try_acquire()
    a.release()
    assert b.try_acquire()
    b.release()


@pytest.mark.postgres
def test_postgres_one_leader_by_advisory_lock_and_failover(
    contexts: Callable[[str], AppContext], pg_url: str
) -> None:
    check_one_leader_then_failover(contexts(pg_url), contexts(pg_url))


@pytest.mark.postgres
def test_postgres_leader_that_loses_its_connection_steps_down(
    contexts: Callable[[str], AppContext], pg_url: str
) -> None:
    """The database drops the leader's session (a restart, a network cut): its lock is gone, so it
    must stop scheduling, and the other takes over."""
    rec = Recorder()
    ctx_a, ctx_b = contexts(pg_url), contexts(pg_url)
    a, b = two_schedulers(ctx_a, ctx_b, rec)
    try:
        assert isinstance(a.lock, PostgresLock) and a.lock.conn is not None
        pid = a.lock.conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
        plain = pg_url.replace("postgresql+psycopg", "postgresql").split("?")[0]
        with psycopg.connect(plain, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert b.wait_for_leadership(5)
        wait(lambda: not a.is_leader)
        before = rec.by("A")
        time.sleep(1.5)
        assert rec.by("A") == before and rec.by("B") >= 1
    finally:
        a.stop()
        b.stop()


@pytest.mark.postgres
def test_postgres_leaders_of_different_schemas_do_not_block_each_other(
    contexts: Callable[[str], AppContext], pg_url: str
) -> None:
    """The lock is keyed by schema, so separate installations sharing a server each have a leader."""
    other_schema = pg_url.rsplit("%3D", 1)[1] + "_b"
    plain = pg_url.replace("postgresql+psycopg", "postgresql").split("?")[0]
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{other_schema}"')
    try:
        a = Scheduler(contexts(pg_url), "A", **FAST).start()
        b = Scheduler(contexts(pg_url.rsplit("%3D", 1)[0] + "%3D" + other_schema), "B", **FAST).start()
        try:
            assert a.wait_for_leadership(5) and b.wait_for_leadership(5)
        finally:
            a.stop()
            b.stop()
    finally:
        with psycopg.connect(plain, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{other_schema}" CASCADE')


def test_jobs_registered_after_start_are_scheduled_and_job_runner_is_the_scheduler(
    contexts: Callable[[str], AppContext], tmp_path: Path
) -> None:
    from bot import jobs

    assert jobs.JobRunner is Scheduler
    ctx = contexts(f"sqlite:///{tmp_path}/late.db")
    rec = Recorder()
    s = Scheduler(ctx, "A", **FAST).start()
    try:
        assert s.wait_for_leadership(5)
        ctx.add_job(Job("late", timedelta(seconds=1), rec.job))
        wait(lambda: rec.by("A") >= 1)
    finally:
        s.stop()
    assert not running_as_leader()  # outside a scheduled job


def test_every_feature_job_runs_on_the_scheduler_and_a_missed_digest_is_caught_up_at_start(slack_env) -> None:  # type: ignore[no-untyped-def]
    """The real app: the jobs features registered (SLA watcher, action-item reminders, digests,
    nudges) are scheduled on the leader, and on taking the lead it catches up a digest missed an
    hour ago — once."""
    from tests.digests.support import NINE_BERLIN, delivered, subscribe

    ctx = slack_env.fw.ctx
    ctx.clock.freeze(NINE_BERLIN - timedelta(hours=1))
    subscribe(slack_env)
    ctx.clock.freeze(NINE_BERLIN + timedelta(hours=1))  # the bot was down at 09:00
    names = {job.name for job in ctx.jobs}
    assert {"digests", "okr-nudges", "ssp-sla-watcher", "postmortem-action-reminders"} <= names
    s = Scheduler(ctx, slack_env.fw.app.client, **FAST).start()
    try:
        assert s.wait_for_leadership(5)
        wait(lambda: {j.id for j in s.aps.get_jobs()} == names)
        wait(lambda: delivered(slack_env, "C0GROWTH"), timeout=15)
        time.sleep(1.5)
    finally:
        s.stop()
    assert delivered(slack_env, "C0GROWTH") == ["digest:D-1:2027-12-06"]
