"""Select menus in the simulator are named as people see them — by label — not only by action_id.

A new user typing `select Team Growth` in `flywheel demo` got "no select menu 'Team'": menus could
only be addressed by internal IDs like `okr_team`. Now a label, the start of one, or the action_id
works, in the demo shell and in the simulator's API.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from sqlmodel import select

from bot.demo.run import DemoStack
from bot.simulator.repl import DemoShell
from storage.models.okrs import Objective


@pytest.fixture
def stack(slack_env_factory: Callable[..., DemoStack]) -> DemoStack:
    env = slack_env_factory(features=True)  # the demo company's OKRs: O-1 is "Double weekly active teams"
    env.sim.take_outputs()
    return env


def test_the_demo_shell_selects_and_searches_menus_by_their_label(stack: DemoStack) -> None:
    out = io.StringIO()
    shell = DemoShell(stack.sim, user_id="U0OMAR", channel_id="C0GROWTH", out=out)
    failures = shell.run(
        [
            "/okr new",
            "select Team Growth",
            "search Aligned to (parent objective) double",
            "search aligned double",  # the start of the label is enough
            'select "Aligned to" O-1',
            "submit Objective = Referrals that pay for themselves",
        ]
    )
    text = out.getvalue()
    assert failures == 0, text
    assert text.count("O-1 Double weekly active teams") >= 2  # both searches found it
    assert "Created `O-" in text
    with stack.db.session() as s:
        made = s.exec(select(Objective).where(Objective.title == "Referrals that pay for themselves")).one()
    assert made.parent_id == 1 and made.team_id is not None


def test_the_simulator_api_takes_labels_and_action_ids(stack: DemoStack) -> None:
    sim = stack.sim
    sim.command("U0OMAR", "/okr", "new", channel_id="C0GROWTH")
    sim.settle()
    assert sim.select("U0OMAR", "team", "Payments") is None  # an input block: only the view's state changes
    assert sim.select("U0OMAR", "okr_team", "Growth") is None  # the action_id still works
    assert [o["value"] for o in sim.suggest("U0OMAR", "Aligned", "O-1")][:1] == ["1"]
    with pytest.raises(LookupError, match="no select menu 'Colour' visible; menus: Aligned to"):
        sim.select("U0OMAR", "Colour", "red")
    assert sim.split_menu("U0OMAR", "Aligned to (parent objective) O-1") == (
        "Aligned to (parent objective)",
        "O-1",
    )
