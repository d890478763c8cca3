"""The cycle review (复盘) end to end, on the demo company's OKRs with a controllable clock.

Owners are DMed exactly once per cycle (across runs and a restart), write final scores and
reflections in the modal, the review is posted once on the last day to the channels that follow
it, an unfinished KR is carried over with its history linked, and the next cycle opens for
drafting 15 days before it starts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from bot.app import build_app
from bot.cli import app as cli
from bot.demo.run import DemoStack
from bot.jobs import run_all
from bot.okrs import review, review_slack, review_views, scoring
from bot.okrs import service as svc
from bot.okrs.actions import Field
from storage.models import Delivery
from storage.models.okrs import KeyResult, Objective, OkrReflection
from tests.okrs.support import SEEDED, errors_in, kr_id, seeded, shown

REVIEW_WEEK = datetime(2026, 12, 25, 9, tzinfo=UTC)  # seven days before it ends
LAST_DAY = datetime(2026, 12, 31, 12, 5, tzinfo=UTC)
OWNERS = 11  # everyone in the demo company owns an objective


def dms(env: DemoStack) -> list[str]:
    env.sim.settle()
    return [o.user or "" for o in env.sim.take_outputs() if o.kind == "message" and o.channel.startswith("D")]


def test_owners_are_asked_once_per_cycle_across_runs_and_a_restart(
    slack_env_factory: Callable[..., DemoStack],
) -> None:
    env = seeded(slack_env_factory)
    ctx, client = env.fw.ctx, env.fw.app.client
    assert run_all(ctx, client) == 0
    assert dms(env) == []  # mid-cycle: nobody is asked yet

    ctx.clock.freeze(REVIEW_WEEK)
    assert run_all(ctx, client) == 0
    env.sim.settle()
    outputs = env.sim.take_outputs()
    asked = sorted(o.user or "" for o in outputs)
    assert len(asked) == OWNERS and len(set(asked)) == OWNERS
    lena = next(env.sim.render_output(o) for o in outputs if o.user == "U0LENA")
    assert "Cycle review (复盘) · 2026-11" in lena and "[Write the review]" in lena
    assert "Cycle 2026-11 ends on Thursday, Dec 31" in lena
    assert "`O-4` Activate new teams in their first week — computed score" in lena
    assert "[Carry KR-7 over to 2027-01]" in lena  # the next cycle is open for drafting by now

    assert run_all(ctx, client) == 0  # the next run, an hour or a minute later
    ctx.clock.advance(REVIEW_WEEK - REVIEW_WEEK.replace(hour=8))
    assert run_all(ctx, client) == 0
    assert dms(env) == []

    restarted = build_app(ctx.settings, db=env.db, client=client)  # a restart: a new app, same database
    restarted.ctx.clock.freeze(REVIEW_WEEK)
    assert review_slack.JOB_NAME in [j.name for j in restarted.ctx.jobs]
    assert run_all(restarted.ctx, client) == 0
    restarted.ctx.executor.shutdown()
    assert dms(env) == []
    with env.db.session() as s:
        rows = s.exec(select(Delivery).where(Delivery.kind == "okr_review_dm")).all()
    assert len(rows) == OWNERS and {r.status for r in rows} == {"sent"}
    assert {r.key for r in rows} >= {"okr:review-dm:2026-11:U0LENA"}


def test_the_review_modal_saves_final_scores_and_reflections(
    slack_env_factory: Callable[..., DemoStack],
) -> None:
    env = seeded(slack_env_factory)
    ctx, sim = env.fw.ctx, env.sim
    ctx.clock.freeze(REVIEW_WEEK)
    run_all(ctx, env.fw.app.client)
    shown(env)
    activation, experiments = (
        kr_id(env, "Week-1 activation rate"),
        kr_id(env, "Onboarding experiments shipped"),
    )

    sim.click_button("U0LENA", "Write the review")
    modal = shown(env, "U0LENA")
    assert '[modal "Review 2026-11"' in modal
    assert f"KR-{activation} Week-1 activation rate — final score (optional): ____ (0.3)" in modal  # computed
    assert "O-4 · what worked" in modal and "O-4 · what didn't" in modal and "O-4 · what next" in modal

    sim.submit_view("U0LENA", {Field.FINAL.nth(activation): "1.5", Field.FINAL.nth(experiments): "lots"})
    assert errors_in(shown(env, "U0LENA")) == [
        "A final score is from 0.0 to 1.0 (like 0.7), not 1.5.",
        "The final score lots is not a number — expected something like 42 or 12.5.",
    ]
    with env.db.session() as s:
        assert s.exec(select(func.count()).select_from(OkrReflection)).one() == 0
        assert s.get(KeyResult, activation).final_score is None  # type: ignore[union-attr]

    sim.submit_view(
        "U0LENA",
        {
            Field.FINAL.nth(activation): "0.4",
            Field.FINAL.nth(experiments): "",  # left empty: the computed score counts
            Field.WORKED.nth(4): "The welcome checklist",
            Field.DIDNT.nth(4): "SSO signups kept failing",
            Field.NEXT.nth(4): "Fix the invite step first",
        },
    )
    done = shown(env, "U0LENA")
    assert "Review saved." in done and "`O-4` Activate new teams in their first week — score" in done
    assert "reflection saved" in done
    with env.db.session() as s:
        stored = s.get(KeyResult, activation)
        reflection = s.get(OkrReflection, 4)
        untouched = s.get(KeyResult, experiments)
    assert stored is not None and (stored.final_score, stored.final_scored_by) == (0.4, "U0LENA")
    assert untouched is not None and untouched.final_score is None
    assert reflection is not None and reflection.didnt == "SSO signups kept failing"

    # Someone else's objective is not theirs to review.
    sim.command("U0OMAR", "/okr", "review write O-4", channel_id="C0GROWTH")
    assert "Only @lena (the owner of O-4)" in shown(env, "U0OMAR")
    # Before the review week it is not open yet.
    ctx.clock.freeze(SEEDED)
    sim.command("U0LENA", "/okr", "review write", channel_id="C0GROWTH")
    assert "The review of cycle 2026-11 opens on Dec 25" in shown(env, "U0LENA")


def test_the_review_is_posted_once_on_the_last_day_where_it_is_followed(
    slack_env_factory: Callable[..., DemoStack],
) -> None:
    env = seeded(slack_env_factory)
    ctx, sim, client = env.fw.ctx, env.sim, env.fw.app.client
    # The demo seed subscribed #general (company) and #growth (Growth); #payments subscribes here.
    sim.command("U0PRIYA", "/okr", "review subscribe payments", channel_id="C0PAYMENTS")
    assert "#payments will get Payments's cycle review on each cycle's last day" in shown(env, "U0PRIYA")
    sim.command("U0PRIYA", "/okr", "review subscribe payments", channel_id="C0PAYMENTS")
    assert "#payments already gets Payments's cycle review" in shown(env, "U0PRIYA")

    ctx.clock.freeze(REVIEW_WEEK)
    run_all(ctx, client)
    shown(env)
    ctx.clock.freeze(LAST_DAY.replace(hour=11))  # the last day, before noon: not yet
    run_all(ctx, client)
    assert shown(env) == ""
    ctx.clock.freeze(LAST_DAY)
    run_all(ctx, client)
    run_all(ctx, client)  # a second run posts nothing more
    env.sim.settle()
    posts = {o.channel: env.sim.render_output(o) for o in env.sim.take_outputs()}
    assert set(posts) == {"C0GENERAL", "C0GROWTH", "C0PAYMENTS"}
    company, growth = posts["C0GENERAL"], posts["C0GROWTH"]
    assert "Cycle review (复盘) · 2026-11 · Company" in company
    assert "*13 objectives* · 25 key results" in company and "*By team*" in company
    assert "Growth: 2 objectives" in company and "Payments: 3 objectives" in company
    assert "Cycle review (复盘) · 2026-11 · Growth" in growth and "*2 objectives* · 5 key results" in growth
    assert "`0.7–1.0`" in growth and "`0.4–0.6`" in growth and "`0.0–0.3`" in growth
    assert "*Met* — " in growth and "*Missed* — " in growth
    with env.db.session() as s:
        posted = s.exec(select(Delivery.key).where(Delivery.kind == "okr_review_post")).all()
    assert sorted(posted) == [
        "okr:review-post:2026-11:C0GENERAL:company",
        "okr:review-post:2026-11:C0GROWTH:team:2",
        "okr:review-post:2026-11:C0PAYMENTS:team:3",
    ]
    sim.command("U0PRIYA", "/okr", "review unsubscribe payments", channel_id="C0PAYMENTS")
    assert "#payments will no longer get Payments's cycle review" in shown(env, "U0PRIYA")


def test_the_report_on_seeded_data(slack_env_factory: Callable[..., DemoStack]) -> None:
    """Scores, their distribution, met and missed, per team and company, with final scores counted."""
    env = seeded(slack_env_factory)
    ctx = env.fw.ctx
    ctx.clock.freeze(REVIEW_WEEK)
    clock = scoring.Clock.of(ctx)
    with env.db.session() as s:
        # Priya grades her objective a success; Lena writes a reflection.
        priya = review.items_of_owner(db_session=s, clock=clock, owner_id="U0PRIYA", cycle_key="2026-11")
        review.save(
            db_session=s,
            actor_id="U0PRIYA",
            is_admin=False,
            clock=clock,
            scores={k.kr.id or 0: 0.8 for k in priya[0].state.krs},
            texts={priya[0].state.objective.id or 0: review.ReflectionText(worked="Retries and alerting")},
        )
    with env.db.session() as s:
        company = review.report(db_session=s, clock=clock, cycle_key="2026-11")
        payments = review.report(
            db_session=s, clock=clock, cycle_key="2026-11", team=svc.find_team(db_session=s, name="payments")
        )
    assert (len(company.items), len(company.kr_scores)) == (13, 25)
    assert sum(n for _, _, n in company.distribution) == 25
    assert [i.state.objective.title for i in company.met] == ["Checkout that never fails"]
    assert len(company.missed) == 12 and not company.final
    assert company.owners == (1, 11)
    assert [(t.team.key if t.team else None, t.objectives) for t in company.teams] == [
        ("analytics", 2),
        ("company", 3),
        ("growth", 2),
        ("hr", 1),
        ("legal", 1),
        ("payments", 3),
        ("research", 1),
    ]
    assert len(payments.items) == 3 and payments.met[0].score == 0.8
    assert (
        payments.met[0].reflection is not None and payments.met[0].reflection.worked == "Retries and alerting"
    )
    text = str(review_views.review_message(payments, share_value=None)["blocks"])
    assert "Retries and alerting" in text and "1 met" in text

    result = CliRunner().invoke(
        cli, ["export", "review", "--cycle", "2026-11", "--format", "md"], env={"DATABASE_URL": env.db.url}
    )
    assert result.exit_code == 0, result.output
    md = result.output
    assert md.startswith("# Cycle review 2026-11\n") and "## Company\n" in md and "## Payments\n" in md
    assert "| team | objectives | met | average |" in md
    assert "**What worked:** Retries and alerting" in md
    assert "### O-6 Checkout that never fails" in md and "| 0.8 |" in md
    bad = CliRunner().invoke(
        cli, ["export", "review", "--cycle", "2026-12"], env={"DATABASE_URL": env.db.url}
    )
    assert bad.exit_code == 2 and "not the start of a cycle" in bad.output


def test_an_unfinished_kr_is_carried_over_with_its_history(
    slack_env_factory: Callable[..., DemoStack],
) -> None:
    env = seeded(slack_env_factory)
    ctx, sim = env.fw.ctx, env.sim
    activation = kr_id(env, "Week-1 activation rate")

    ctx.clock.freeze(datetime(2026, 12, 10, 9, tzinfo=UTC))  # drafting for 2027-01 opens on Dec 17
    sim.command("U0LENA", "/okr", f"carry KR-{activation}", channel_id="C0GROWTH")
    assert "can be carried over into 2027-01 once that cycle opens for drafting, on Dec 17" in shown(
        env, "U0LENA"
    )

    ctx.clock.freeze(REVIEW_WEEK)
    run_all(ctx, env.fw.app.client)
    shown(env)
    sim.click_button("U0LENA", f"Carry KR-{activation} over to 2027-01")  # the button in the review DM
    seen = shown(env, "U0LENA")
    new = kr_id(env, "Week-1 activation rate", "2027-01")
    assert f"Carried `KR-{activation}` over into cycle 2027-01 as `KR-{new}`" in seen
    with env.db.session() as s:
        carried = s.get(KeyResult, new)
        old = s.get(KeyResult, activation)
        assert carried is not None and old is not None
        objective = s.get(Objective, carried.objective_id)
    assert (carried.start, carried.target, carried.unit, carried.current) == (31, 40, "%", 31)
    assert carried.carried_from_id == activation and carried.weight is None
    assert objective is not None and (objective.cycle_key, objective.title, objective.owner_id) == (
        "2027-01",
        "Activate new teams in their first week",
        "U0LENA",
    )
    assert objective.carried_from_id == 4

    sim.command("U0LENA", "/okr", f"history KR-{new}", channel_id="C0GROWTH")
    history = shown(env, "U0LENA")
    assert f"Carried over from `KR-{activation}` in cycle 2026-11" in history
    assert "Slower than hoped; the invite step loses people" in history  # the old check-ins, linked
    sim.command("U0LENA", "/okr", f"history KR-{activation}", channel_id="C0GROWTH")
    assert f"Carried over to `KR-{new}` in cycle 2027-01" in shown(env, "U0LENA")

    sim.command("U0LENA", "/okr", f"carry KR-{activation}", channel_id="C0GROWTH")
    assert f"is already carried over as KR-{new}" in shown(env, "U0LENA")
    # A second KR of the same objective joins the same objective in the next cycle.
    drop_off = kr_id(env, "Signup drop-off")
    sim.command("U0LENA", "/okr", f"carry KR-{drop_off}", channel_id="C0GROWTH")
    assert "Carried" in shown(env, "U0LENA")
    with env.db.session() as s:
        again = s.get(KeyResult, kr_id(env, "Signup drop-off", "2027-01"))
        assert again is not None and again.objective_id == carried.objective_id
    sim.command(
        "U0OMAR", "/okr", f"carry KR-{kr_id(env, 'Onboarding experiments shipped')}", channel_id="C0GROWTH"
    )
    assert "Only @lena" in shown(env, "U0OMAR")


def test_the_next_cycle_opens_for_drafting_15_days_before(
    slack_env_factory: Callable[..., DemoStack],
) -> None:
    env = seeded(slack_env_factory)
    ctx, sim = env.fw.ctx, env.sim
    ctx.clock.freeze(datetime(2026, 12, 16, 12, tzinfo=UTC))
    sim.command("U0LENA", "/okr", "new Activation 2027 cycle:2027-01", channel_id="C0GROWTH")
    assert "Cycle 2027-01 opens for drafting on Dec 17 (15 days before it starts)" in shown(env, "U0LENA")
    sim.command("U0LENA", "/okr", "new", channel_id="C0GROWTH")
    assert "Cycle:" not in shown(env, "U0LENA")  # one cycle to choose from: no menu
    sim.close_view("U0LENA")
    shown(env)

    ctx.clock.freeze(datetime(2026, 12, 17, 0, 1, tzinfo=UTC))
    sim.command("U0LENA", "/okr", "new Activation 2027 cycle:2027-01", channel_id="C0GROWTH")
    assert "Created `O-14` *Activation 2027* in cycle 2027-01" in shown(env, "U0LENA")
    sim.command("U0LENA", "/okr", "new Something old cycle:2026-09", channel_id="C0GROWTH")
    assert "Cycle 2026-09 has ended" in shown(env, "U0LENA")
    sim.command("U0LENA", "/okr", "cycle", channel_id="C0GROWTH")
    assert "Cycle 2027-01 is open for drafting" in shown(env, "U0LENA")

    # The form offers both cycles; the parent picker then lists the chosen cycle's objectives.
    sim.command("U0LENA", "/okr", "new", channel_id="C0GROWTH")
    assert "Cycle: [2026-11 (Nov 1 – Dec 31) | 2027-01 (Jan 1 – Feb 28)]" in shown(env, "U0LENA")
    sim.select("U0LENA", "Cycle", "2027-01")
    assert [o["text"]["text"] for o in sim.suggest("U0LENA", "Aligned to", "activation")] == [
        "O-14 Activation 2027"
    ]
    sim.submit_view(
        "U0LENA",
        {
            "Objective": "Invite flow that works",
            "Aligned to": "O-14",
            Field.KR.nth(1): "Invites sent target:500 weight:1",
        },
    )
    assert "Created `O-15`" in shown(env, "U0LENA")
    with env.db.session() as s:
        made = s.get(Objective, 15)
    assert made is not None and (made.cycle_key, made.parent_id) == ("2027-01", 14)


@pytest.mark.postgres
def test_two_replicas_racing_ask_each_owner_once_on_postgresql(
    slack_env_factory: Callable[..., DemoStack], pg_url: str
) -> None:
    env = seeded(slack_env_factory, DATABASE_URL=pg_url)
    ctx, client = env.fw.ctx, env.fw.app.client
    ctx.clock.freeze(REVIEW_WEEK)
    clock = scoring.Clock.of(ctx)
    span = clock.current()
    barrier = threading.Barrier(4)
    sent: list[int] = []

    def replica() -> None:
        barrier.wait()
        sent.append(review_slack.send_review_dms(ctx, client, clock, span))

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(sent) == OWNERS
    asked = dms(env)
    assert len(asked) == OWNERS and len(set(asked)) == OWNERS


def test_the_app_home_offers_the_review_in_the_last_week(slack_env_factory: Callable[..., DemoStack]) -> None:
    env = seeded(slack_env_factory)
    env.sim.open_home("U0LENA")
    assert "Write the review" not in shown(env, "U0LENA")
    env.fw.ctx.clock.freeze(REVIEW_WEEK)
    env.sim.open_home("U0LENA")
    assert "Cycle 2026-11 ends soon" in shown(env, "U0LENA")
    env.sim.click_button("U0LENA", "Write the review")
    assert '[modal "Review 2026-11"' in shown(env, "U0LENA")
