"""Two schedulers racing on one PostgreSQL database: every (subscription, period) posted once.

Two full replicas (each the real app with its own Slack simulator) share the database and run the
digest job at the same instant, as a split brain would; the claims decide who posts.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import time as clock_time
from datetime import timedelta

import pytest

from bot.demo import company
from bot.demo.run import DemoStack
from bot.digests.deliver import run_due
from bot.digests.schedule import Rule
from tests.digests.support import BERLIN, NINE_BERLIN, delivered, subscribe

CHANNELS = [c.id for c in company.CHANNELS]


@pytest.mark.postgres
def test_two_schedulers_racing_post_each_digest_once(
    pg_url: str, slack_env_factory: Callable[..., DemoStack]
) -> None:
    a = slack_env_factory(DATABASE_URL=pg_url)
    b = slack_env_factory(DATABASE_URL=pg_url)
    for stack in (a, b):
        stack.fw.ctx.clock.freeze(NINE_BERLIN - timedelta(hours=2))
    expected = set()
    for i, channel in enumerate(CHANNELS):
        for minute in (0, 5, 10):
            sub = subscribe(a, channel=channel, rule=Rule("daily", clock_time(8, minute + i), BERLIN))
            expected.add(f"digest:D-{sub.id}:2027-12-06")
    for stack in (a, b):
        stack.fw.ctx.clock.freeze(NINE_BERLIN)
    rounds = []
    for _round in range(3):
        barrier = threading.Barrier(2)
        reports: dict[str, object] = {}
        rounds.append(reports)

        def race(name: str, stack: DemoStack, barrier: threading.Barrier, reports: dict[str, object]) -> None:
            barrier.wait()
            reports[name] = run_due(stack.fw.ctx, stack.fw.app.client)

        threads = [
            threading.Thread(target=race, args=(n, s, barrier, reports)) for n, s in (("a", a), ("b", b))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    posted = Counter(key for stack in (a, b) for channel in CHANNELS for key in delivered(stack, channel))
    assert set(posted) == expected  # no loss
    assert max(posted.values()) == 1  # no duplicate
    first = rounds[0]
    assert first["a"].due == first["b"].due == len(expected)  # type: ignore[attr-defined]
    claimed = first["a"].claimed + first["b"].claimed  # type: ignore[attr-defined]
    lost = first["a"].lost + first["b"].lost  # type: ignore[attr-defined]
    assert claimed == len(expected) and lost == len(expected)  # each one won by one, lost by the other
