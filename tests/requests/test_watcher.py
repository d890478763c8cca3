"""The SLA watcher: warnings and breaches exactly once, with a frozen and advanced clock —
through the real app and simulator, and with two watchers racing on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot import jobs
from bot.demo.run import DemoStack
from bot.requests import service, watcher
from bot.teams import yaml_io
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Delivery
from storage.models.requests import RequestEvent
from tests.requests.support import MONDAY_BERLIN, load_teams, team


def _events(db: Database, kind: str) -> list[RequestEvent]:
    with db.session() as s:
        return list(s.exec(select(RequestEvent).where(RequestEvent.kind == kind)).all())


def test_warning_then_breach_once_each_through_slack(slack_env: DemoStack) -> None:
    env, ctx = slack_env, slack_env.fw.ctx
    client = env.fw.app.client
    ctx.clock.freeze(MONDAY_BERLIN)  # Monday 09:00 Berlin
    env.sim.command(
        "U0LENA", "/ssp", "request analytics Cohort retention numbers for the board", channel_id="C0GROWTH"
    )
    env.sim.settle()
    with env.db.session() as s:
        rid = s.exec(select(RequestEvent.request_id)).first()
    assert rid is not None
    ref = service.ref(rid)
    env.sim.command("U0SOFIA", "/ssp", f"assign {ref} <@U0KENJI|kenji>", channel_id="C0ANALYTICS")
    env.sim.settle()
    env.sim.take_outputs()

    # The demo's Analytics: 3d = 27 business hours; 80% = 21h36m → Wednesday 12:36 Berlin.
    ctx.clock.freeze(datetime(2026, 12, 9, 11, 0, tzinfo=UTC))  # Wed 12:00 Berlin: silence
    jobs.run_all(ctx, client)
    env.sim.settle()
    assert not [o for o in env.sim.take_outputs() if o.kind == "message"]
    ctx.clock.advance(timedelta(minutes=40))  # 12:40: past the warning
    for _ in range(3):  # a rerun, a restart: still one warning
        jobs.run_all(ctx, client)
    env.sim.settle()
    out = env.sim.take_outputs()
    warnings = [o for o in out if o.kind == "message" and "80% of its resolution SLA" in (o.text or "")]
    assert len(warnings) == 1 and warnings[0].user == "U0KENJI"
    assert len(_events(env.db, "sla_warning")) == 1

    # Wednesday 18:00 Berlin is the due time; at 18:05 the breach, once, in the channel and to the lead.
    ctx.clock.freeze(datetime(2026, 12, 9, 17, 5, tzinfo=UTC))
    jobs.run_all(ctx, client)
    jobs.run_all(ctx, client)
    env.sim.settle()
    out = env.sim.take_outputs()
    breaches = [o for o in out if o.kind == "message" and "breached its resolution SLA" in (o.text or "")]
    assert sorted((o.channel == "C0ANALYTICS", o.user) for o in breaches) == [
        (False, "U0SOFIA"),
        (True, None),
    ]
    assert len(_events(env.db, "sla_breach")) == 1
    updated = [o for o in out if o.kind == "update" and o.channel == "C0ANALYTICS"]
    assert updated and "SLA breached" in env.sim.render_output(updated[-1])
    with env.db.session() as s:
        keys = {d.key: d.status for d in s.exec(select(Delivery)).all()}
    assert keys == {f"ssp:warning:resolution:{ref}": "sent", f"ssp:breach:resolution:{ref}": "sent"}
    # The request shows it; `/ssp queue` flags it.
    env.sim.command("U0KENJI", "/ssp", "queue", channel_id="C0ANALYTICS")
    env.sim.settle()
    assert "SLA breached" in "\n".join(env.sim.render_output(o) for o in env.sim.take_outputs())


def test_first_response_breach_without_a_warning_run_in_between(db: Database) -> None:
    load_teams(db)
    research = team(db, "research")  # first response 2h, around the clock
    start = datetime(2026, 12, 5, 22, 0, tzinfo=UTC)  # a Saturday night: no hours, the clock runs
    with db.session() as s:
        service.create(db_session=s, team=research, requester_id="U0OMAR", summary="Interviews", now=start)
    assert watcher.collect(db=db, now=start + timedelta(minutes=90)) == []
    found = watcher.collect(db=db, now=start + timedelta(hours=3))  # the watcher was down at 80%
    assert [(a.step, a.clock) for a in found] == [("breach", "first_response")]
    assert watcher.collect(db=db, now=start + timedelta(hours=4)) == []


def _race(url: str) -> tuple[list[str], int]:
    """Two watchers, each with its own engine, collect at the same instant many times over."""
    upgrade(url)
    db = Database(url)
    load_teams(db)
    research = team(db, "research")
    start = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
    with db.session() as s:
        for i in range(20):
            service.create(
                db_session=s, team=research, requester_id="U0OMAR", summary=f"Study {i}", now=start
            )
    won: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)

    def watch() -> None:
        mine = Database(url)
        try:
            for minutes in (100, 100, 130, 130):
                barrier.wait()
                keys = [a.key for a in watcher.collect(db=mine, now=start + timedelta(minutes=minutes))]
                with lock:
                    won.extend(keys)
        finally:
            mine.dispose()

    threads = [threading.Thread(target=watch) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    events = len(_events(db, "sla_warning")) + len(_events(db, "sla_breach"))
    db.dispose()
    return won, events


@pytest.mark.postgres
def test_two_watchers_racing_on_postgresql_announce_each_once(pg_url: str) -> None:
    won, events = _race(pg_url)
    # 20 requests × (a first-response warning at 96 minutes + a breach at 120) = 40, each once.
    assert len(won) == 40 and len(set(won)) == 40 and events == 40


def test_teams_loader_is_what_the_race_uses() -> None:
    assert yaml_io.read_teams("teams: []\n")[1]  # an empty list is refused, not silently accepted
