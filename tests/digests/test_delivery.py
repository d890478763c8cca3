"""Exactly once per subscription and period: ticks, catch-up, 429s, crashes between claim and post.

The real app and the Slack simulator over HTTP; the clock is frozen and moved by hand, and the
digest job is called the way the scheduler calls it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.common import delivery, outbox
from bot.common.delivery import MARKER, Message
from bot.demo.run import DemoStack
from bot.digests import deliver
from bot.jobs import run_all
from storage.models import Delivery
from storage.models.digests import DigestSubscription, OutboxMessage
from tests.digests.support import NINE_BERLIN, delivered, subscribe


@pytest.fixture
def env(slack_env: DemoStack) -> Iterator[DemoStack]:
    slack_env.fw.ctx.clock.freeze(NINE_BERLIN - timedelta(hours=1))
    slack_env.sim.take_outputs()
    yield slack_env


def run(env: DemoStack) -> deliver.RunReport:
    return deliver.run_due(env.fw.ctx, env.fw.app.client)


def status(env: DemoStack, key: str) -> str | None:
    with env.db.session() as s:
        row = s.get(Delivery, key)
        return row.status if row else None


def pending_rows(env: DemoStack) -> list[OutboxMessage]:
    with env.db.session() as s:
        return list(s.exec(select(OutboxMessage)).all())


KEY = "digest:D-1:2027-12-06"


def test_a_due_digest_is_posted_once_however_often_the_job_runs(env: DemoStack) -> None:
    sub = subscribe(env)
    assert sub.next_run_at == NINE_BERLIN
    assert run(env).due == 0 and delivered(env, "C0GROWTH") == []
    env.fw.ctx.clock.advance(timedelta(hours=1, seconds=5))
    report = run(env)
    assert (report.due, report.claimed, report.count("sent")) == (1, 1, 1)
    for _ in range(3):
        assert run(env).due == 0
        assert run_all(env.fw.ctx, env.fw.app.client) == 0
    assert delivered(env, "C0GROWTH") == [KEY]
    assert status(env, KEY) == "sent" and pending_rows(env) == []
    text = env.sim.render(env.sim.messages("C0GROWTH")[-1].text, env.sim.messages("C0GROWTH")[-1].blocks)
    assert "Daily OKR digest" in text and "/digest remove D-1" in text
    with env.db.session() as s:
        row = s.get(DigestSubscription, sub.id)
        assert row is not None and row.next_run_at == NINE_BERLIN + timedelta(days=1)
        assert row.covered_until == env.fw.ctx.clock.now()
    # The next day's period is a new delivery.
    env.fw.ctx.clock.advance(timedelta(days=1))
    assert run(env).count("sent") == 1
    assert delivered(env, "C0GROWTH") == [KEY, "digest:D-1:2027-12-07"]


def test_catch_up_one_hour_late_is_sent_once(env: DemoStack) -> None:
    subscribe(env)
    env.fw.ctx.clock.freeze(NINE_BERLIN + timedelta(hours=1))  # the bot was down over 09:00
    assert run(env).count("sent") == 1
    assert run(env).due == 0
    assert delivered(env, "C0GROWTH") == [KEY]


def test_catch_up_eight_hours_late_is_skipped_and_logged(
    env: DemoStack, caplog: pytest.LogCaptureFixture
) -> None:
    subscribe(env)
    env.fw.ctx.clock.freeze(NINE_BERLIN + timedelta(hours=8))
    with caplog.at_level(logging.WARNING, logger="bot.digests.deliver"):
        report = run(env)
    assert (report.skipped, report.claimed) == (1, 0)
    assert "digest D-1 (okr in C0GROWTH) for 2027-12-06 skipped: 8.0 h late" in caplog.text
    assert delivered(env, "C0GROWTH") == [] and status(env, KEY) == "skipped"
    assert run(env).due == 0
    env.fw.ctx.clock.freeze(NINE_BERLIN + timedelta(days=1, minutes=1))
    assert run(env).count("sent") == 1
    assert delivered(env, "C0GROWTH") == ["digest:D-1:2027-12-07"]


def test_a_429_is_waited_out_and_the_digest_posted_once(env: DemoStack) -> None:
    subscribe(env)
    env.fw.ctx.clock.freeze(NINE_BERLIN)
    env.sim.fail_next("chat.postMessage", status=429, retry_after=1, times=2)
    report = run(env)
    assert report.count("sent") == 1 and report.outcomes[0].rate_limited == 2
    assert [c.status for c in env.sim.calls_to("chat.postMessage")] == [429, 429, 200]
    assert delivered(env, "C0GROWTH") == [KEY] and status(env, KEY) == "sent"


def test_an_unknown_outcome_is_released_then_resolved_once(
    env: DemoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe(env)
    env.fw.ctx.clock.freeze(NINE_BERLIN)
    env.sim.fail_next("chat.postMessage", status=500)  # did it post? a 5xx does not say
    report = run(env)
    assert report.count("retry") == 1 and delivered(env, "C0GROWTH") == []
    [row] = pending_rows(env)
    assert row.lease_until == NINE_BERLIN + delivery.BACKOFF_BASE and status(env, KEY) == "claimed"
    assert run(env).outcomes == []  # not before the back-off
    env.fw.ctx.clock.advance(delivery.BACKOFF_BASE)
    report = run(env)
    assert [o.status for o in report.outcomes] == ["sent"]
    assert delivered(env, "C0GROWTH") == [KEY] and pending_rows(env) == []
    assert run(env).outcomes == []


def test_a_process_that_died_after_claiming_is_resolved_by_its_successor(
    env: DemoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim committed, then the process died before chat.postMessage (the real SIGKILL case is
    in tests/scheduler/test_serve_failover.py). A restarted process posts it once."""
    subscribe(env)
    env.fw.ctx.clock.freeze(NINE_BERLIN)
    monkeypatch.setattr(outbox, "send", lambda **kwargs: delivery.Outcome(kwargs["key"], "died"))
    assert run(env).claimed == 1
    monkeypatch.undo()
    assert delivered(env, "C0GROWTH") == [] and status(env, KEY) == "claimed"
    # Its owner is alive as far as this process knows, so nothing happens until the lease ends…
    assert run(env).outcomes == []
    # …and the restarted process (a new owner) is no leader: it waits out the lease too.
    monkeypatch.setattr(delivery, "OWNER", "host:999:restarted")
    env.fw.ctx.clock.advance(delivery.LEASE - timedelta(seconds=1))
    assert run(env).outcomes == []
    env.fw.ctx.clock.advance(timedelta(seconds=1))
    assert [o.status for o in run(env).outcomes] == ["sent"]
    assert delivered(env, "C0GROWTH") == [KEY] and status(env, KEY) == "sent"
    assert run(env).outcomes == [] and delivered(env, "C0GROWTH") == [KEY]


def test_the_leader_takes_over_a_dead_processs_claim_after_the_grace_period(
    env: DemoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import scheduler

    subscribe(env)
    env.fw.ctx.clock.freeze(NINE_BERLIN)
    monkeypatch.setattr(outbox, "send", lambda **kwargs: delivery.Outcome(kwargs["key"], "died"))
    run(env)
    monkeypatch.undo()
    monkeypatch.setattr(delivery, "OWNER", "host:999:new-leader")
    token = scheduler._leading.set(True)
    try:
        env.fw.ctx.clock.advance(delivery.GRACE - timedelta(seconds=1))
        assert run(env).outcomes == []
        env.fw.ctx.clock.advance(timedelta(seconds=1))
        assert [o.status for o in run(env).outcomes] == ["sent"]
    finally:
        scheduler._leading.reset(token)
    assert delivered(env, "C0GROWTH") == [KEY]


def test_posted_but_not_recorded_is_found_in_the_channel_and_not_posted_again(env: DemoStack) -> None:
    """The process posted, then died before recording it: the marker in Slack settles it."""
    with env.db.session() as s:
        assert delivery.claim(
            db_session=s, key=KEY, kind="digest", message=Message("C0GROWTH", "digest"), now=NINE_BERLIN
        )
    env.fw.app.client.chat_postMessage(
        channel="C0GROWTH", text="digest", metadata={"event_type": MARKER, "event_payload": {"key": KEY}}
    )
    env.fw.ctx.clock.freeze(NINE_BERLIN + delivery.LEASE)
    [outcome] = run(env).outcomes
    assert outcome.status == "found"
    assert delivered(env, "C0GROWTH") == [KEY] and status(env, KEY) == "sent" and pending_rows(env) == []


def test_a_channel_that_cannot_be_read_is_never_posted_to_blindly(env: DemoStack) -> None:
    """Whether a stale claim was posted cannot be checked: it is retried later, then failed."""
    with env.db.session() as s:
        delivery.claim(
            db_session=s, key=KEY, kind="digest", message=Message("C0GROWTH", "x"), now=NINE_BERLIN
        )
    env.fw.ctx.clock.freeze(NINE_BERLIN + delivery.LEASE)
    env.sim.fail_next("conversations.history", error="not_in_channel", times=delivery.MAX_ATTEMPTS)
    for _ in range(delivery.MAX_ATTEMPTS):
        run(env)
        env.fw.ctx.clock.advance(delivery.BACKOFF_MAX)
    assert status(env, KEY) == "failed" and pending_rows(env) == []
    assert env.sim.calls_to("chat.postMessage") == []


def test_a_permanent_slack_error_fails_the_delivery_without_retrying(env: DemoStack) -> None:
    subscribe(env, channel="C0GROWTH")
    env.fw.ctx.clock.freeze(NINE_BERLIN)
    env.sim.fail_next("chat.postMessage", error="is_archived")
    assert [o.status for o in run(env).outcomes] == ["failed"]
    assert status(env, KEY) == "failed" and pending_rows(env) == []
    env.fw.ctx.clock.advance(timedelta(hours=1))
    assert run(env).outcomes == [] and len(env.sim.calls_to("chat.postMessage")) == 1
