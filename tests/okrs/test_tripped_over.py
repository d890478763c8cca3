"""What a new user tripped over in `/okr`, each as they hit it, through the simulator.

Each test failed on the code before the fix (the docstring says what was seen then). The demo
company's OKRs are seeded at a known time: KR-7 "Week-1 activation rate" goes from 28% to 40%,
KR-8 "Onboarding experiments shipped" counts from 0 to 6, both Lena's (objective O-4).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import func, select

from bot.demo.run import DemoStack
from bot.okrs.actions import Field
from storage.models.okrs import CheckIn, KeyResult, Objective
from tests.okrs.support import errors_in, kr_id, seeded, shown


@pytest.fixture
def env(slack_env_factory: Callable[..., DemoStack]) -> DemoStack:
    return seeded(slack_env_factory)


def value_of(env: DemoStack, kr: int) -> tuple[float, int]:
    with env.db.session() as s:
        row = s.get(KeyResult, kr)
        n = s.exec(select(func.count()).select_from(CheckIn).where(CheckIn.key_result_id == kr)).one()
    assert row is not None
    return row.current, int(n)


def test_the_checkin_modal_never_confuses_a_value_in_percent_with_a_share_of_the_way(env: DemoStack) -> None:
    """Was: on a 28%→40% KR the value field offered "or a share: 60%", though 60% there is a value."""
    sim = env.sim
    activation = kr_id(env, "Week-1 activation rate")
    sim.command("U0LENA", "/okr", "mine", channel_id="C0GROWTH")
    shown(env)
    sim.click_button("U0LENA", f"okr_checkin:{activation}")
    modal = shown(env, "U0LENA")
    assert "or a share" not in modal
    assert "New value (%) (optional): ____ (e.g. 35 or 35%)" in modal
    assert "(In % — 35 or 35% both mean 35%. Now 31%, target 40%.)" in modal
    assert "…or progress (% of the way) (optional)" in modal
    assert "(A share of the way from 28% to 40%: 50% is halfway. Fill in one of the two.)" in modal

    sim.submit_view("U0LENA", {"value": "36%", "progress": "50%"})
    assert errors_in(shown(env, "U0LENA")) == ["Fill in a new value or a progress, not both."]
    sim.submit_view("U0LENA", {"value": "", "progress": "50%"})
    seen = shown(env, "U0LENA")
    assert "Progress 50% is 50% of the way from 28% to 40%: 34%." in seen
    assert value_of(env, activation)[0] == 34

    sim.click_button("U0LENA", f"okr_checkin:{activation}")
    shown(env)
    sim.submit_view("U0LENA", {"value": "36%"})
    seen = shown(env, "U0LENA")
    assert "`36%` is the value 36% (for a share of the way from 28% to 40%, use `progress:36%`)." in seen
    assert value_of(env, activation)[0] == 36

    # By command too, and a count KR says how a `%` was read there.
    experiments = kr_id(env, "Onboarding experiments shipped")
    sim.command("U0LENA", "/okr", f"checkin KR-{experiments} 50%", channel_id="C0GROWTH")
    assert "`50%` is read as 50% of the way from 0 to 6: 3 (this key result is not measured in %)" in shown(
        env, "U0LENA"
    )
    sim.command("U0LENA", "/okr", f"checkin KR-{activation} 50% of the way", channel_id="C0GROWTH")
    assert "Progress 50% is 50% of the way from 28% to 40%: 34%." in shown(env, "U0LENA")


def test_modal_errors_are_plain_text(env: DemoStack) -> None:
    """Was: `A key result needs target:&lt;number&gt;` — Slack shows modal errors literally."""
    sim = env.sim
    sim.command("U0OMAR", "/okr", "new", channel_id="C0GROWTH")
    shown(env)
    sim.submit_view(
        "U0OMAR",
        {
            "Objective": "Referrals",
            Field.KR.nth(1): "Referred signups per week",
            Field.KR.nth(2): "x target:<5",
        },
    )
    errors = errors_in(shown(env, "U0OMAR"))
    assert errors == [
        "A key result needs target:<number>, e.g. Weekly active teams target:200 start:120.",
        "The target <5 is not a number — expected something like 42 or 12.5.",
    ]
    assert not any("&lt;" in e or "&gt;" in e or "`" in e for e in errors)


def test_out_of_range_checkins_are_noted_and_impossible_ones_refused(env: DemoStack) -> None:
    """Was: -50 and 1000 on a 28%→40% KR were stored without a word."""
    sim = env.sim
    activation, experiments = (
        kr_id(env, "Week-1 activation rate"),
        kr_id(env, "Onboarding experiments shipped"),
    )
    before = value_of(env, activation)
    sim.command("U0LENA", "/okr", f"checkin KR-{activation} -50", channel_id="C0GROWTH")
    assert "-50% is impossible here: this key result measures a share, which cannot be below 0%." in shown(
        env
    )
    sim.command("U0LENA", "/okr", f"checkin KR-{activation} 1000", channel_id="C0GROWTH")
    assert "1000% is impossible here: this key result measures a share, which cannot be above 100%." in shown(
        env
    )
    assert value_of(env, activation) == before  # nothing recorded

    sim.command("U0LENA", "/okr", f"checkin KR-{activation} 45", channel_id="C0GROWTH")
    assert "45% is past the target 40% — recorded; progress counts as 100%." in shown(env, "U0LENA")
    sim.command("U0LENA", "/okr", f"checkin KR-{activation} 20", channel_id="C0GROWTH")
    assert "20% is behind the start 28% — recorded; progress counts as 0%." in shown(env, "U0LENA")
    assert value_of(env, activation) == (20, before[1] + 2)

    sim.command("U0LENA", "/okr", f"checkin KR-{experiments} -1", channel_id="C0GROWTH")
    assert "-1 is impossible here: this key result measures a count" in shown(env, "U0LENA")
    sim.command("U0LENA", "/okr", f"checkin KR-{experiments} 9", channel_id="C0GROWTH")
    seen = shown(env, "U0LENA")
    assert "9 is past the target 6 — recorded" in seen and ":white_check_mark: done" in seen


def test_extra_words_are_honoured_or_named(env: DemoStack) -> None:
    """Was: `/okr @lena @priya` showed Lena only; `share` after a check-in became its note."""
    sim = env.sim
    sim.command("U0MAYA", "/okr", "@lena @priya", channel_id="C0GENERAL", raw_text=True)
    seen = shown(env, "U0MAYA")
    assert "OKRs of @lena and @priya" in seen
    assert "Activate new teams in their first week" in seen and "Checkout that never fails" in seen
    sim.command("U0MAYA", "/okr", "<@U0LENA|lena> <@U0PRIYA|priya>", channel_id="C0GENERAL")
    assert "OKRs of @lena and @priya" in shown(env, "U0MAYA")

    activation = kr_id(env, "Week-1 activation rate")
    sim.command(
        "U0LENA", "/okr", f"checkin KR-{activation} 33 invite step fixed share", channel_id="C0GROWTH"
    )
    env.sim.settle()
    posted = [o for o in env.sim.take_outputs() if o.kind == "message" and o.channel == "C0GROWTH"]
    assert posted and "Checked in" in env.sim.render_output(posted[0])  # for everyone in #growth
    with env.db.session() as s:
        last = s.exec(
            select(CheckIn).where(CheckIn.key_result_id == activation).order_by(CheckIn.id.desc())
        ).first()  # type: ignore[attr-defined]
    assert last is not None and last.note == "invite step fixed"

    sim.command("U0LENA", "/okr", f"history KR-{activation} KR-8", channel_id="C0GROWTH")
    assert "Ignored `KR-8` — `/okr history KR-n` shows one key result." in shown(env, "U0LENA")
    sim.command("U0LENA", "/okr", "<@U0PRIYA> please", channel_id="C0GROWTH")
    assert "Ignored `please` — `/okr @user` takes people and `cycle:`." in shown(env, "U0LENA")


def test_titles_need_a_letter_or_digit(env: DemoStack) -> None:
    """Was: `/okr new "` created an objective titled `"`."""
    with env.db.session() as s:
        before = s.exec(select(func.count()).select_from(Objective)).one()
    for text in ['new "', "new ---", 'kr O-4 " target:5']:
        env.sim.command("U0LENA", "/okr", text, channel_id="C0GROWTH")
        assert "has no letters or digits" in shown(env, "U0LENA"), text
    env.sim.command("U0LENA", "/okr", 'new "Invite flow that works"', channel_id="C0GROWTH")
    assert "Created `O-14` *Invite flow that works*" in shown(env, "U0LENA")  # the quotes are not the title
    with env.db.session() as s:
        assert s.exec(select(func.count()).select_from(Objective)).one() == before + 1


def test_weights_from_the_command_and_the_modal(env: DemoStack) -> None:
    """Was: weights existed in the tables but could not be set (0–1), shown, or checked."""
    sim = env.sim
    sim.command("U0LENA", "/okr", "new Referral loop", channel_id="C0GROWTH")
    shown(env)
    sim.command(
        "U0LENA", "/okr", "kr O-14 Referred signups target:200 start:80 weight:0.6", channel_id="C0GROWTH"
    )
    seen = shown(env, "U0LENA")
    assert "weight 0.6 (counts 1)" in seen
    assert "`O-14`: weights sum to 0.6, not 1 — the roll-up scales them to 1" in seen
    sim.command(
        "U0LENA", "/okr", "kr O-14 Cost per team target:90 start:140 weight:40%", channel_id="C0GROWTH"
    )
    seen = shown(env, "U0LENA")
    assert "weight 0.4" in seen and "weights sum" not in seen
    sim.command("U0LENA", "/okr", "kr O-14 Third target:1 weight:3", channel_id="C0GROWTH")
    assert "Weight `3` must be from 0 to 1" in shown(env, "U0LENA")
    sim.command("U0LENA", "/okr", "O-14", channel_id="C0GROWTH")
    seen = shown(env, "U0LENA")
    assert "Referred signups\n" in seen and "· weight 0.6 ·" in seen and "· weight 0.4 ·" in seen

    sim.command("U0LENA", "/okr", "new", channel_id="C0GROWTH")
    shown(env)
    sim.submit_view(
        "U0LENA",
        {
            "Objective": "Faster onboarding",
            Field.KR.nth(1): "Time to first value target:2 start:10 unit:days weight:0.7",
            Field.KR.nth(2): "Guides read target:100 weight:0.5",
        },
    )
    seen = shown(env, "U0LENA")
    assert ":warning: weights sum to 1.2, not 1 — the roll-up scales them to 1" in seen
    with env.db.session() as s:
        weights = sorted(
            k.weight or 0 for k in s.exec(select(KeyResult).where(KeyResult.objective_id == 15)).all()
        )
    assert weights == [0.5, 0.7]
