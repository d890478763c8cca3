"""Helpers for the OKR end-to-end tests: the demo company's OKRs at a known time, and what was shown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlmodel import col, select

from bot.demo.run import DemoStack
from bot.okrs import demo as okr_demo
from storage.models.okrs import KeyResult, Objective

SEEDED = datetime(2026, 11, 20, 10, tzinfo=UTC)  # the demo company planned cycle 2026-11 (Nov–Dec)


def seeded(factory: Callable[..., DemoStack], at: datetime = SEEDED, **overrides: object) -> DemoStack:
    """A stack whose clock is frozen at `at`, with the demo OKRs seeded as of then."""
    env = factory(**overrides)
    env.fw.ctx.clock.freeze(at)
    okr_demo.seed(env.fw.ctx, env.fw.app.client)
    env.sim.take_outputs()
    return env


def shown(env: DemoStack, user: str | None = None) -> str:
    """Everything shown (to `user`, or to anyone) since the last call, rendered as text."""
    env.sim.settle()
    return "\n".join(
        env.sim.render_output(o) for o in env.sim.take_outputs() if user is None or o.user in (user, None)
    )


def errors_in(text: str) -> list[str]:
    """The error lines of a rendered modal (the simulator shows them as `  ! …`)."""
    return [line.strip()[2:] for line in text.splitlines() if line.startswith("  ! ")]


def kr_id(env: DemoStack, title: str, cycle: str = "2026-11") -> int:
    with env.db.session() as s:
        found = s.exec(
            select(KeyResult.id)
            .join(Objective, col(Objective.id) == col(KeyResult.objective_id))
            .where(KeyResult.title == title, Objective.cycle_key == cycle)
        ).one()
    return found or 0
