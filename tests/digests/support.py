"""Helpers for the digest tests: subscriptions made through the service, posts read from Slack."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from bot.common.delivery import MARKER
from bot.demo.run import DemoStack
from bot.digests import service
from bot.digests.parse import DigestKind
from bot.digests.schedule import Rule
from bot.simulator import BOT_USER_ID
from storage.models.digests import DigestSubscription

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 7 December 2027, 09:00 in Berlin (CET, +1): a fire time of "daily 09:00" there.
NINE_BERLIN = datetime(2027, 12, 6, 8, 0, tzinfo=UTC)


def subscribe(
    env: DemoStack,
    channel: str = "C0GROWTH",
    kind: DigestKind = DigestKind.OKR,
    rule: Rule | None = None,
    actor: str = "U0LENA",
) -> DigestSubscription:
    rule = rule or Rule("daily", time(9, 0), BERLIN)
    with env.db.session() as s:
        return service.add(
            db_session=s, channel_id=channel, kind=kind, rule=rule, actor_id=actor, now=env.fw.ctx.clock.now()
        )


def delivered(env: DemoStack, channel: str) -> list[str]:
    """Delivery keys of the bot's marked posts in `channel`, oldest first (one per post)."""
    keys = []
    for m in env.sim.messages(channel):
        meta = m.metadata or {}
        if m.user == BOT_USER_ID and meta.get("event_type") == MARKER:
            keys.append(meta["event_payload"]["key"])
    return keys
