"""Periodic jobs, the shared clock and once-only deliveries: the pieces every timed feature uses."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import Clock
from bot.common import delivery
from bot.context import AppContext
from bot.jobs import Job, run_all
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Delivery


def test_clock_freezes_advances_and_shifts() -> None:
    clock = Clock()
    assert clock.is_real
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    clock.freeze(at)
    assert clock.now() == at
    assert clock.advance(timedelta(days=2)) == at + timedelta(days=2)
    clock.reset()
    before = datetime.now(UTC)
    clock.advance(timedelta(days=6))
    assert clock.now() - before >= timedelta(days=6)
    assert not clock.is_real
    with pytest.raises(ValueError):
        clock.freeze(datetime(2026, 12, 1))


def test_claim_is_won_once_and_survives_in_the_callers_transaction(db: Database) -> None:
    with db.session() as s:
        assert delivery.claim(db_session=s, key="ssp:warn:REQ-1", kind="sla_warning")
        assert not delivery.claim(db_session=s, key="ssp:warn:REQ-1", kind="sla_warning")
    with db.session() as s:
        assert not delivery.claim(db_session=s, key="ssp:warn:REQ-1", kind="sla_warning")
        delivery.mark(db_session=s, key="ssp:warn:REQ-1", status="sent")
    with db.session() as s:
        row = s.get(Delivery, "ssp:warn:REQ-1")
        assert row is not None and row.status == "sent" and row.sent_at is not None


def test_a_rolled_back_claim_leaves_the_key_free(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as s:
        assert delivery.claim(db_session=s, key="digest:D-1:2026-12-01", kind="digest")
        raise RuntimeError("crash before commit")
    with db.session() as s:
        assert delivery.claim(db_session=s, key="digest:D-1:2026-12-01", kind="digest")


@pytest.mark.postgres
def test_claims_race_on_postgresql_and_exactly_one_wins(pg_url: str) -> None:
    upgrade(pg_url)
    database = Database(pg_url)
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def racer() -> None:
        barrier.wait()
        with database.session() as s:
            wins.append(delivery.claim(db_session=s, key="ssp:breach:REQ-9", kind="sla_breach"))

    threads = [threading.Thread(target=racer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    database.dispose()
    assert sorted(wins) == [False] * 7 + [True]


def test_run_all_runs_every_job_and_one_failure_does_not_stop_the_rest(db: Database, make_settings) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ctx = AppContext(settings=make_settings(), db=db, executor=ThreadPoolExecutor(1))
    seen: list[str] = []

    def boom(ctx: AppContext, client: object) -> None:
        raise RuntimeError("bug")

    ctx.add_job(Job("first", timedelta(minutes=1), boom))
    ctx.add_job(Job("second", timedelta(minutes=1), lambda c, client: seen.append("second")))
    ctx.add_job(Job("second", timedelta(minutes=5), lambda c, client: seen.append("second again")))
    assert run_all(ctx, None) == 1
    assert seen == ["second again"]  # a re-registered name replaces the old job
    ctx.executor.shutdown()


def test_demo_clock_command_moves_the_bots_time(slack_env) -> None:
    import io

    from bot.demo.commands import extra_commands
    from bot.simulator.repl import DemoShell

    out = io.StringIO()
    ctx = slack_env.fw.ctx
    shell = DemoShell(
        slack_env.sim, user_id="U0LENA", channel_id="C0GENERAL", out=out, extra=extra_commands(ctx, None)
    )
    before = ctx.clock.now()
    assert shell.run(["clock +6d", "clock nonsense", "jobs"]) == 1
    assert ctx.clock.now() - before >= timedelta(days=6)
    text = out.getvalue()
    assert "(moved; `clock reset` for real time)" in text
    assert "usage: clock" in text
    assert shell.run(["clock reset"]) == 0 and ctx.clock.is_real
