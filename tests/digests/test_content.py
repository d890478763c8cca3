"""What each digest says, on seeded data: OKR numbers, review threads, Slack's limits, and the rule
that a digest shows only what every member of its channel may see."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.demo.run import DemoStack
from bot.digests import deliver, views
from bot.digests.content import Builder, OkrContent, ReviewsContent, Window
from bot.digests.parse import DigestKind
from bot.okrs import service as okr
from bot.okrs.scoring import Clock, Status
from bot.reviews import service as reviews
from bot.reviews.slack import SlackThreadSource
from tests.digests.support import BERLIN, NINE_BERLIN, delivered, subscribe

SINCE = NINE_BERLIN - timedelta(days=1)


@pytest.fixture
def env(slack_env: DemoStack) -> Iterator[DemoStack]:
    slack_env.fw.ctx.clock.freeze(NINE_BERLIN)
    slack_env.sim.take_outputs()
    yield slack_env


def okr_clock(env: DemoStack) -> Clock:
    return Clock.of(env.fw.ctx)


def seed_okrs(env: DemoStack) -> dict[str, int]:
    """Growth: one KR that moved 10 → 40 since yesterday, one untouched; Payments: one at risk."""
    clock = okr_clock(env)
    ids: dict[str, int] = {}
    with env.db.session() as s:
        growth = okr.find_team(db_session=s, name="growth")
        payments = okr.find_team(db_session=s, name="payments")
        o1 = okr.create_objective(
            db_session=s, actor_id="U0LENA", clock=clock, title="Activate teams", team=growth
        )
        o2 = okr.create_objective(
            db_session=s, actor_id="U0PRIYA", clock=clock, title="Checkout never fails", team=payments
        )
        for name, objective, title, target in [
            ("activation", o1, "Activation rate", 100.0),
            ("dropoff", o1, "Signup drop-off", 10.0),
            ("errors", o2, "Checkout <b>errors</b> & more", 100.0),
        ]:
            kr = okr.add_key_result(
                db_session=s,
                clock=clock,
                actor_id=objective.owner_id,
                is_admin=False,
                objective_id=objective.id or 0,
                title=title,
                target=target,
            )
            ids[name] = kr.id or 0
        okr.check_in(
            db_session=s,
            clock=clock,
            actor_id="U0LENA",
            is_admin=False,
            kr_id=ids["activation"],
            value=10,
            at=SINCE - timedelta(days=2),
        )
        okr.check_in(
            db_session=s,
            clock=clock,
            actor_id="U0LENA",
            is_admin=False,
            kr_id=ids["activation"],
            value=40,
            note="Checklist v2",
            at=SINCE + timedelta(hours=3),
        )
        okr.check_in(
            db_session=s,
            clock=clock,
            actor_id="U0PRIYA",
            is_admin=False,
            kr_id=ids["errors"],
            value=2,
            confidence=2,
            at=SINCE + timedelta(hours=5),
        )
    return ids


def test_the_okr_digest_on_seeded_data(env: DemoStack) -> None:
    ids = seed_okrs(env)
    window = Window(since=SINCE, until=NINE_BERLIN, tz=BERLIN)
    content = Builder(env.fw.ctx, env.fw.app.client).build(DigestKind.OKR, window, "C0GENERAL")
    assert isinstance(content, OkrContent)
    assert [(t.name, t.objectives, round(t.progress, 2)) for t in content.teams] == [
        ("Growth", 1, 0.2),  # (40% + 0%) / 2
        ("Payments", 1, 0.02),
    ]
    assert content.checkins_total == 2  # the one before `since` is not in the window
    assert [(r.kr.id, r.previous) for r in content.checkins] == [
        (ids["errors"], None),
        (ids["activation"], 10),
    ]
    assert [(m.state.kr.id, round(m.gain, 2)) for m in content.movers] == [
        (ids["activation"], 0.3),
        (ids["errors"], 0.02),
    ]
    # Confidence 2 → off track. The untouched KR, new today, is *not started*: not at risk.
    assert [r.state.kr.id for r in content.risks] == [ids["errors"]]
    text = views.digest_message(content, kind=DigestKind.OKR, window=window, cadence="daily", sub_ref="D-4")[
        "text"
    ]
    assert text.startswith("Daily OKR digest — Cycle 2027-11")
    posted = views.digest_message(content, kind=DigestKind.OKR, window=window, cadence="daily", sub_ref="D-4")
    shown = env.sim.render(posted["text"], posted["blocks"])
    assert "Progress by team" in shown and "*20%* Growth — 1 objective · 1 on track, 1 not started" in shown
    assert f"`KR-{ids['activation']}` Activation rate: 10 → 40 by @lena — _Checklist v2_" in shown
    assert f"`KR-{ids['activation']}` Activation rate *+30 pts* (10% → 40%)" in shown
    # Escaped on the way in, shown literally (the KR at risk: the one without a check-in is
    # *not started*, so it is in no list).
    assert "Checkout <b>errors</b> & more" in shown and "Signup drop-off" not in shown
    assert "&lt;b&gt;" in str(posted["blocks"])


def test_the_okr_digest_follows_the_okr_status_rules(env: DemoStack) -> None:
    """The digest shows the statuses `/okr` shows: a KR at its target is *done* whatever an old
    confidence said, one without a check-in is *not started* — neither is "at risk" — and a KR
    that fell back is a mover too."""
    clock = okr_clock(env)
    with env.db.session() as s:
        growth = okr.find_team(db_session=s, name="growth")
        objective = okr.create_objective(
            db_session=s, actor_id="U0LENA", clock=clock, title="Ship the funnel", team=growth
        )
        ids = [
            okr.add_key_result(
                db_session=s,
                clock=clock,
                actor_id="U0LENA",
                is_admin=False,
                objective_id=objective.id or 0,
                title=title,
                target=100,
            ).id
            or 0
            for title in ("Funnel live", "Funnel docs", "Funnel speed")
        ]
        done, _fresh, fell = ids
        for kr_id, value, hours in [(done, 50, -72), (done, 100, 1), (fell, 30, -24), (fell, 20, 2)]:
            okr.check_in(
                db_session=s,
                clock=clock,
                actor_id="U0LENA",
                is_admin=False,
                kr_id=kr_id,
                value=value,
                confidence=2 if kr_id == done else None,
                at=SINCE + timedelta(hours=hours),
            )
    window = Window(since=SINCE, until=NINE_BERLIN, tz=BERLIN)
    content = Builder(env.fw.ctx, env.fw.app.client).build(DigestKind.OKR, window, "C0GENERAL")
    assert isinstance(content, OkrContent)
    [team] = content.teams
    assert team.statuses == {Status.DONE: 1, Status.NOT_STARTED: 1, Status.ON_TRACK: 1}
    assert content.risks == [] and content.risks_total == 0
    assert [(m.state.kr.id, round(m.gain, 2)) for m in content.movers] == [(done, 0.5), (fell, -0.1)]
    posted = views.digest_message(content, kind=DigestKind.OKR, window=window, cadence="daily", sub_ref="D-1")
    shown = env.sim.render(posted["text"], posted["blocks"])
    assert "Growth — 1 objective · 1 done, 1 on track, 1 not started" in shown
    assert "*At risk or off track*\nNone. :tada:" in shown
    assert f"`KR-{fell}` Funnel speed *−10 pts* (30% → 20%)" in shown
    assert f"`KR-{done}` Funnel live *+50 pts* (50% → 100%)" in shown


def test_long_okr_lists_stay_within_slacks_limits_with_and_n_more(env: DemoStack) -> None:
    clock = okr_clock(env)
    with env.db.session() as s:
        for i in range(40):
            objective = okr.create_objective(
                db_session=s, actor_id="U0MAYA", clock=clock, title=f"Objective {i} " + "x" * 150
            )
            for j in range(3):
                kr = okr.add_key_result(
                    db_session=s,
                    clock=clock,
                    actor_id="U0MAYA",
                    is_admin=False,
                    objective_id=objective.id or 0,
                    title=f"KR {i}.{j} " + "y" * 180,
                    target=100,
                )
                okr.check_in(
                    db_session=s,
                    clock=clock,
                    actor_id="U0MAYA",
                    is_admin=False,
                    kr_id=kr.id or 0,
                    value=1 + j,
                    confidence=1,
                    note="n" * 500,
                    at=SINCE + timedelta(minutes=i + 1),
                )
    window = Window(since=SINCE, until=NINE_BERLIN, tz=BERLIN)
    content = Builder(env.fw.ctx, env.fw.app.client).build(DigestKind.OKR, window, "C0GENERAL")
    payload = views.digest_message(
        content, kind=DigestKind.OKR, window=window, cadence="weekly", sub_ref="D-1"
    )
    assert len(payload["blocks"]) <= 50
    assert all(len((b.get("text") or {}).get("text", "")) <= 3000 for b in payload["blocks"])
    shown = env.sim.render(payload["text"], payload["blocks"])
    assert "…and 115 more — `/okr atrisk`" in shown and "…and 115 more — `/okr history KR-n`" in shown
    # Slack itself accepts it (the simulator validates like Slack).
    env.fw.app.client.chat_postMessage(channel="C0GENERAL", **payload)


def thread(env: DemoStack, channel: str, root_user: str, words: str, replies: int = 3) -> str:
    root = env.sim.post_message(channel, root_user, f"Review: {words}. Decided: ship {words} on Friday.")
    for i in range(replies):
        env.sim.post_message(channel, "U0MAYA", f"Question {i}: what about {words} latency?", thread_ts=root)
    return root


def test_the_reviews_digest_never_shows_a_private_channels_thread_elsewhere(env: DemoStack) -> None:
    env.fw.ctx.clock.reset()  # thread activity is Slack time: real time here
    source = SlackThreadSource(env.fw.app.client)
    for channel in ("C0REVIEW", "C0LEADS"):
        reviews.register_channel(db=env.db, source=source, actor="U0MAYA", channel_id=channel)
    thread(env, "C0REVIEW", "U0LENA", "one-page checkout")
    thread(env, "C0LEADS", "U0PRIYA", "the secret reorg")
    now = env.fw.ctx.clock.now()
    window = Window(since=now - timedelta(days=1), until=now, tz=BERLIN)
    builder = Builder(env.fw.ctx, env.fw.app.client)
    public = builder.build(DigestKind.REVIEWS, window, "C0GENERAL")
    private = builder.build(DigestKind.REVIEWS, window, "C0LEADS")
    assert isinstance(public, ReviewsContent) and isinstance(private, ReviewsContent)
    assert {r.channel_id for r in public.results} == {"C0REVIEW"} and public.total == 1
    assert {r.channel_id for r in private.results} == {"C0REVIEW", "C0LEADS"}
    shown = str(
        views.digest_message(public, kind=DigestKind.REVIEWS, window=window, cadence="daily", sub_ref="D-1")
    )
    assert "one-page checkout" in shown and "secret reorg" not in shown
    # The same through a scheduled delivery in #general.
    subscribe(env, channel="C0GENERAL", kind=DigestKind.REVIEWS)
    env.fw.ctx.clock.freeze(now + timedelta(hours=1))
    with env.db.session() as s:
        from storage.models.digests import DigestSubscription

        sub = s.get(DigestSubscription, 1)
        assert sub is not None
        sub.next_run_at = env.fw.ctx.clock.now()
        s.add(sub)
    deliver.run_due(env.fw.ctx, env.fw.app.client)
    assert len(delivered(env, "C0GENERAL")) == 1
    posted = env.sim.messages("C0GENERAL")[-1]
    assert "secret reorg" not in str(posted.blocks) and "one-page checkout" in str(posted.blocks)


def test_the_reviews_digest_lists_five_threads_and_n_more(env: DemoStack) -> None:
    env.fw.ctx.clock.reset()
    reviews.register_channel(
        db=env.db, source=SlackThreadSource(env.fw.app.client), actor="U0MAYA", channel_id="C0REVIEW"
    )
    for i in range(7):
        thread(env, "C0REVIEW", "U0LENA", f"feature {i}", replies=1)
    now = env.fw.ctx.clock.now()
    window = Window(since=now - timedelta(days=1), until=now, tz=BERLIN)
    content = Builder(env.fw.ctx, env.fw.app.client).build(DigestKind.REVIEWS, window, "C0GENERAL")
    assert isinstance(content, ReviewsContent) and len(content.results) == 5 and content.total == 7
    payload = views.digest_message(
        content, kind=DigestKind.REVIEWS, window=window, cadence="weekly", sub_ref="D-2"
    )
    shown = env.sim.render(payload["text"], payload["blocks"])
    assert "…and 2 more active threads" in shown
    assert "feature 6" in shown and "feature 0" not in shown  # the newest first
