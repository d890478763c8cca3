"""Two replicas on one PostgreSQL: an event Slack delivers to both is handled once."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from bot.demo.run import DemoStack


@pytest.mark.postgres
def test_one_event_delivered_to_two_replicas_is_handled_once(
    pg_url: str, slack_env_factory: Callable[..., DemoStack]
) -> None:
    a = slack_env_factory(DATABASE_URL=pg_url)
    b = slack_env_factory(DATABASE_URL=pg_url)
    event = {
        "type": "message",
        "channel_type": "im",
        "user": "U0OMAR",
        "channel": a.sim.im_channel("U0OMAR"),
        "text": "hello",
        "ts": f"{time.time():.6f}",
    }
    assert a.sim.event(event, event_id="Ev0REPLICA1").status == 200
    assert (
        b.sim.event(
            {**event, "channel": b.sim.im_channel("U0OMAR")}, event_id="Ev0REPLICA1", retry_num=1
        ).status
        == 200
    )
    a.sim.settle()
    b.sim.settle()
    answers = len(a.sim.calls_to("chat.postMessage")) + len(b.sim.calls_to("chat.postMessage"))
    assert answers == 1
