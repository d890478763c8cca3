"""The demo company's service requests, in every state, through the service's own functions.

Each request is replayed at past times (the service takes `now`), so its history and SLA clocks
are what they would be had it happened: one is at 90% of its resolution SLA (the demo's `jobs`
command warns its assignee), one is past its first-response SLA (`jobs` announces the breach in
#research-requests and DMs the lead), one waits on its requester (clock paused), one is resolved
and waits for a rating, two are closed and rated. Then the intake posts are put in the channels.
Seeds once: a kept `--db` that already has requests is left alone.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from bot.context import AppContext
from bot.requests import notify, service
from bot.teams import hours as bt
from bot.teams import service as teams
from storage.models.requests import ServiceRequest

log = logging.getLogger(__name__)


def _when(team: Any, now: datetime, share: float, clock: str) -> datetime:
    """A filing time `share` of the team's SLA (business time) before now."""
    slas = teams.slas_of(team)
    duration = slas.first_response if clock == "first_response" else slas.resolution
    assert duration is not None
    return bt.subtract(now, duration.within(slas.hours) * share, slas.hours)


def seed(ctx: AppContext, client: Any) -> None:
    now = ctx.clock.now()
    with ctx.db.session() as s:
        if s.exec(select(func.count()).select_from(ServiceRequest)).one():
            return
        team = {t.key: t for t in teams.service_teams(db_session=s)}
        if not {"analytics", "legal", "hr", "research"} <= set(team):
            return
        ids: list[int] = []

        def file(key: str, who: str, summary: str, at: datetime, **extra: Any) -> int:
            change = service.create(
                db_session=s, team=team[key], requester_id=who, summary=summary, now=at, **extra
            )
            ids.append(change.request.id or 0)
            return change.request.id or 0

        hour = timedelta(hours=1)
        # Resolved and rated, long ago: similar requests the FAQ suggestions can offer.
        at = now - timedelta(days=20)
        nda = file(
            "legal", "U0LENA", "NDA for the Acme pilot", at, details="Mutual NDA, Acme Corp, 3-month pilot."
        )
        service.claim(db_session=s, request_id=nda, actor_id="U0AMARA", is_admin=False, now=at + hour)
        service.resolve(
            db_session=s,
            request_id=nda,
            actor_id="U0AMARA",
            is_admin=False,
            note="Signed on our mutual NDA template; no changes needed.",
            now=at + 3 * hour,
        )
        service.rate(
            db_session=s, request_id=nda, actor_id="U0LENA", is_admin=False, rating=4, now=at + 4 * hour
        )
        at = now - timedelta(days=12)
        leave = file("hr", "U0OMAR", "Parental leave policy for contractors", at)
        service.claim(db_session=s, request_id=leave, actor_id="U0LUCAS", is_admin=False, now=at + 2 * hour)
        service.resolve(
            db_session=s,
            request_id=leave,
            actor_id="U0LUCAS",
            is_admin=False,
            note="Contractors get the same 16 weeks; the policy page now says so.",
            now=at + 26 * hour,
        )
        service.rate(
            db_session=s, request_id=leave, actor_id="U0OMAR", is_admin=False, rating=5, now=at + 27 * hour
        )
        # Resolved, waiting for the requester's rating.
        at = now - timedelta(days=3)
        board = file(
            "analytics", "U0PRIYA", "Definition of an active team for the board deck", at, urgency="high"
        )
        service.claim(db_session=s, request_id=board, actor_id="U0SOFIA", is_admin=False, now=at + hour)
        service.resolve(
            db_session=s,
            request_id=board,
            actor_id="U0SOFIA",
            is_admin=False,
            note="Three members active in the last 7 days; the metric is certified in the catalogue.",
            now=at + 5 * hour,
        )
        # Waiting on the requester: the resolution clock is paused.
        at = now - timedelta(days=2)
        dpa = file(
            "legal",
            "U0JONAS",
            "DPA review for the new payment gateway vendor",
            at,
            details="Vendor: PayFast. They sent their standard DPA; we need it signed before the pilot.",
        )
        service.claim(db_session=s, request_id=dpa, actor_id="U0AMARA", is_admin=False, now=at + hour)
        service.wait(
            db_session=s,
            request_id=dpa,
            actor_id="U0AMARA",
            is_admin=False,
            note="Please send the vendor's security questionnaire.",
            now=at + 2 * hour,
        )
        # In progress at 90% of its resolution SLA: `jobs` warns Kenji.
        at = _when(team["analytics"], now, 0.9, "resolution")
        drop = file(
            "analytics",
            "U0LENA",
            "Weekly activation dashboard shows a drop since Monday",
            at,
            details="The week-1 activation tile fell from 31% to 24% overnight; nothing shipped in Growth.",
        )
        service.assign(
            db_session=s,
            request_id=drop,
            actor_id="U0SOFIA",
            is_admin=False,
            assignee_id="U0KENJI",
            now=at + hour / 2,
        )
        # New and past its first-response SLA: `jobs` announces the breach.
        at = _when(team["research"], now, 1.25, "first_response")
        file("research", "U0OMAR", "Recruit 8 SMB admins for onboarding interviews", at, urgency="high")
        # Just filed.
        file("analytics", "U0MAYA", "Cohort retention for the investor update", now - timedelta(minutes=20))
    for request_id in ids:
        notify.refresh_intake(ctx, client, request_id)
    log.info("demo requests seeded: %s", ", ".join(service.ref(i) for i in ids))
