"""Two Socket Mode instances of the bot on one PostgreSQL (DESIGN §4: a resilient Socket Mode
deployment runs two or more). Slack delivers each envelope to any live connection of the app,
and a retry may go to the other instance: each event is still handled once.

(One scheduler leader among the instances belongs to the digests issue's scheduler.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import func, select

from bot.demo.run import BotInstance, DemoStack, start_stack
from storage.models import ProcessedEvent

EVENTS = 40
USER = "U0OMAR"


@pytest.fixture
def two_instances(pg_url: str) -> Iterator[DemoStack]:
    stack = start_stack(pg_url, transport="socket", conversations=False, features=False)
    stack.add_instance()
    stack.sim.take_outputs()
    yield stack
    stack.close()


def _counts(instance: BotInstance) -> tuple[float, float]:
    """(events this instance handled, deliveries it skipped as already handled)."""
    registry = instance.fw.metrics.registry
    handled = registry.get_sample_value("flywheel_slack_requests_total", {"kind": "event:message"}) or 0.0
    skipped = registry.get_sample_value("flywheel_duplicate_events_total") or 0.0
    return handled - skipped, skipped


@pytest.mark.postgres
def test_events_delivered_to_both_instances_and_retried_across_them_are_handled_once(
    two_instances: DemoStack,
) -> None:
    sim, server = two_instances.sim, two_instances.sim.socket
    assert server is not None and len(server.live()) == 2

    for n in range(EVENTS):
        if n % 2:  # something else in between, so first deliveries go to both instances in turn
            assert sim.command(USER, "/okr", "help", "C0GENERAL").ok
        first = sim.dm(USER, f"what can you do? ({n})")
        # Slack thinks the first delivery was lost and retries; round robin sends it to the other.
        retry = sim.event(
            first.sent["event"], event_id=first.sent["event_id"], retry_num=1, retry_reason="timeout"
        )
        assert first.ok and retry.ok and first.exchange and retry.exchange
        assert first.exchange.attempts[0][0] != retry.exchange.attempts[0][0]
    sim.settle()

    answers = [m for m in sim.messages(sim.im_channel(USER)) if m.bot_id]
    assert len(answers) == EVENTS
    with two_instances.db.session() as s:
        assert s.exec(select(func.count()).select_from(ProcessedEvent)).one() == EVENTS
    (handled_a, skipped_a), (handled_b, skipped_b) = (
        _counts(two_instances.bot),
        _counts(two_instances.others[0]),
    )
    assert handled_a + handled_b == EVENTS and skipped_a + skipped_b == EVENTS
    assert min(handled_a, handled_b, skipped_a, skipped_b) > 0  # each instance handled some and skipped some
    print(
        f"\n{EVENTS} events × 2 deliveries over 2 instances → {len(answers)} answers "
        f"(instance A handled {handled_a:.0f}, skipped {skipped_a:.0f}; B {handled_b:.0f}, {skipped_b:.0f})"
    )
