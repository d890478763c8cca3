"""Check-in nudges: one DM a week per KR owner with a stale KR, Mondays 10:00 in their own zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.common.delivery import MARKER
from bot.demo.run import DemoStack
from bot.digests.nudges import run_nudges
from bot.okrs import service as okr
from bot.okrs.scoring import Clock
from bot.simulator import BOT_USER_ID

MONDAY = datetime(2027, 12, 6, tzinfo=UTC)  # Kenji is in Asia/Tokyo (+9), Lena in Europe/Berlin (+1)


@pytest.fixture
def env(slack_env: DemoStack) -> Iterator[DemoStack]:
    ctx = slack_env.fw.ctx
    # The KRs exist for ten days by Monday: one never checked in counts from its creation.
    ctx.clock.freeze(MONDAY - timedelta(days=10))
    clock = Clock.of(ctx)
    with slack_env.db.session() as s:
        for owner, title, last in [
            ("U0KENJI", "Dashboards migrated", None),  # never checked in
            ("U0LENA", "Activation rate", timedelta(days=8)),
            ("U0OMAR", "Experiments shipped", timedelta(days=2)),  # fresh: no nudge
            ("U0MAYA", "Guides published", timedelta(days=9)),  # at its target: done, no nudge
        ]:
            objective = okr.create_objective(db_session=s, actor_id=owner, clock=clock, title=f"{title} up")
            kr = okr.add_key_result(
                db_session=s,
                clock=clock,
                actor_id=owner,
                is_admin=False,
                objective_id=objective.id or 0,
                title=title,
                target=10,
            )
            if last is not None:
                okr.check_in(
                    db_session=s,
                    clock=clock,
                    actor_id=owner,
                    is_admin=False,
                    kr_id=kr.id or 0,
                    value=10 if owner == "U0MAYA" else 1,
                    at=MONDAY - last,
                )
    slack_env.sim.take_outputs()
    yield slack_env


def nudged(env: DemoStack) -> list[str]:
    """Who got a nudge DM, in order."""
    out = []
    for user in ("U0KENJI", "U0LENA", "U0OMAR", "U0MAYA"):
        for m in env.sim.messages(env.sim.im_channel(user)):
            meta = m.metadata or {}
            if m.user == BOT_USER_ID and meta.get("event_type") == MARKER:
                out.append((m.ts, user, meta["event_payload"]["key"]))
    return [f"{user} {key}" for _, user, key in sorted(out)]


def at(env: DemoStack, moment: datetime) -> None:
    env.fw.ctx.clock.freeze(moment)
    run_nudges(env.fw.ctx, env.fw.app.client)


def test_each_owner_is_nudged_once_a_week_at_ten_in_their_own_zone(env: DemoStack) -> None:
    at(env, MONDAY + timedelta(minutes=59))  # 09:59 in Tokyo
    assert nudged(env) == []
    at(env, MONDAY + timedelta(hours=1))  # 10:00 in Tokyo, 02:00 in Berlin
    assert nudged(env) == ["U0KENJI nudge:okr:U0KENJI:2027-12-06"]
    at(env, MONDAY + timedelta(hours=9))  # 10:00 in Berlin
    at(env, MONDAY + timedelta(hours=9, minutes=1))
    assert nudged(env) == ["U0KENJI nudge:okr:U0KENJI:2027-12-06", "U0LENA nudge:okr:U0LENA:2027-12-06"]
    at(env, MONDAY + timedelta(days=1, hours=9))  # Tuesday: nothing new
    at(env, MONDAY + timedelta(days=7, hours=1))  # a week later, both again — and Omar, stale by now
    at(env, MONDAY + timedelta(days=7, hours=9))
    assert sorted(nudged(env)[2:]) == [
        "U0KENJI nudge:okr:U0KENJI:2027-12-13",
        "U0LENA nudge:okr:U0LENA:2027-12-13",
        "U0OMAR nudge:okr:U0OMAR:2027-12-13",
    ]


def test_a_nudge_missed_by_more_than_six_hours_waits_for_next_week(env: DemoStack) -> None:
    at(env, MONDAY + timedelta(hours=7))  # 16:00 in Tokyo: too late for Kenji; 08:00 in Berlin: too early
    assert nudged(env) == []
    at(env, MONDAY + timedelta(hours=14, minutes=59))  # 15:59 in Berlin: still in time for Lena
    assert nudged(env) == ["U0LENA nudge:okr:U0LENA:2027-12-06"]


def test_the_nudge_has_a_check_in_button_that_opens_the_check_in(env: DemoStack) -> None:
    at(env, MONDAY + timedelta(hours=1))
    env.sim.settle()
    [dm] = [o for o in env.sim.take_outputs() if o.user == "U0KENJI"]
    text = env.sim.render_output(dm)
    assert "[DM to @kenji]" in text and "A key result of yours has had no check-in for a week" in text
    assert "Dashboards migrated" in text and "[Check in]" in text
    env.sim.click_button("U0KENJI", "Check in")
    env.sim.settle()
    view = env.sim.top_view("U0KENJI")
    assert view is not None and "Dashboards migrated" in str(view.payload)
