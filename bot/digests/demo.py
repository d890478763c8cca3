"""The demo's digests: #product-review registered for review digests, a Friday OKR digest in
#general, a daily review digest in #product-review, and an OKR digest in #growth that first fires
a minute or two after the demo starts — so `clock +2m` then `jobs` (or, interactively, just
waiting) shows a scheduled digest posted once.
"""

from __future__ import annotations

import logging
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from sqlmodel import select

from bot.context import AppContext
from bot.digests import service
from bot.digests.parse import DigestKind
from bot.digests.schedule import Rule
from storage.models.digests import DigestSubscription

log = logging.getLogger(__name__)

DEMO_ZONE = ZoneInfo("Europe/Berlin")


def seed(ctx: AppContext, client: WebClient) -> None:
    """Idempotent: nothing is added when the demo database already has subscriptions."""
    from bot.reviews import service as reviews
    from bot.reviews.slack import SlackThreadSource

    reviews.register_channel(
        db=ctx.db, source=SlackThreadSource(client), actor="U0MAYA", channel_id="C0REVIEW"
    )
    with ctx.db.session() as s:
        if s.exec(select(DigestSubscription.id).limit(1)).first() is not None:
            return
    now = ctx.clock.now()
    soon = (now + timedelta(seconds=90)).astimezone(DEMO_ZONE).replace(second=0, microsecond=0)
    plans = [
        ("C0GENERAL", DigestKind.OKR, Rule("weekly", time(16, 0), DEMO_ZONE, "fri"), "U0MAYA"),
        ("C0REVIEW", DigestKind.REVIEWS, Rule("daily", time(17, 0), DEMO_ZONE), "U0MAYA"),
        ("C0GROWTH", DigestKind.OKR, Rule("daily", soon.time(), DEMO_ZONE), "U0LENA"),
    ]
    with ctx.db.session() as s:
        for channel, kind, rule, actor in plans:
            service.add(db_session=s, channel_id=channel, kind=kind, rule=rule, actor_id=actor, now=now)
    log.info("demo digests seeded; #growth's first fires at %s", soon)
