"""Check-in nudges: owners of KRs with no check-in for 7 days get one DM a week, Mondays at 10:00
in their own time zone (`Person.tz`), with a Check-in button per KR.

The week's fire time comes from a `CronTrigger` in the owner's zone, like a digest's; the DM is
claimed as `nudge:okr:<owner>:<local date>` with its message and posted through the delivery
outbox, so each owner gets it exactly once per week — across restarts and replicas — and a
nudge missed while the bot was down is still sent if it is less than 6 hours late.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import col, select

from bot.common import delivery, outbox
from bot.common.delivery import Message
from bot.digests import views
from bot.digests.deliver import Lanes
from bot.digests.schedule import LATE_LIMIT, Rule
from bot.okrs import activity
from bot.okrs.scoring import Clock
from bot.people import service as people
from storage.models import Delivery

log = logging.getLogger(__name__)

STALE_AFTER = activity.STALE_AFTER  # 7 days
NUDGE_DAY = "mon"
NUDGE_AT = time(10, 0)
EVERY = timedelta(minutes=1)


def _zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else default
    except (ZoneInfoNotFoundError, ValueError):
        return default


def run_nudges(ctx: Any, client: Any) -> list[delivery.Outcome]:
    clock = Clock.of(ctx)
    now = clock.now()
    stale: dict[str, list[activity.Quiet]] = defaultdict(list)  # owner → unfinished quiet KRs
    with ctx.db.session() as s:
        # The OKR feature's list: never a *done* KR; a KR never checked in counts from its creation.
        for quiet in activity.stale_key_results(db_session=s, clock=clock, older_than=STALE_AFTER):
            stale[quiet.objective.owner_id].append(quiet)
        persons = people.get_many(db_session=s, slack_ids=list(stale))
    due: dict[str, str] = {}  # owner → delivery key
    for owner in stale:
        person = persons.get(owner)
        rule = Rule(
            cadence="weekly",
            at=NUDGE_AT,
            weekday=NUDGE_DAY,
            tz=_zone(person.tz if person else None, ctx.settings.tz),
        )
        fire = rule.latest_at_or_before(now)
        if now - fire < LATE_LIMIT:
            due[owner] = f"nudge:okr:{owner}:{rule.period(fire)}"
    if not due:
        return []
    with ctx.db.session() as s:
        done = set(s.exec(select(Delivery.key).where(col(Delivery.key).in_(list(due.values())))).all())
    lanes = Lanes(
        lambda key, message: outbox.send(
            db=ctx.db, client=client, key=key, message=message, clock=ctx.clock.now
        )
    )
    try:
        for owner, key in due.items():
            if key in done:
                continue
            payload = views.nudge_message(stale[owner])
            message = Message(channel=owner, text=payload["text"], blocks=payload["blocks"])
            with ctx.db.session() as s:
                won = delivery.claim(db_session=s, key=key, kind="okr_nudge", message=message, now=now)
            if won:
                lanes.submit(key, message)
    finally:
        outcomes = lanes.join()
    return outcomes
