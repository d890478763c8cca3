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
from bot.requests import faq, notify, service
from bot.teams import hours as bt
from bot.teams import service as teams
from storage.models.requests import ServiceRequest, TeamFaq

log = logging.getLogger(__name__)


def _when(team: Any, now: datetime, share: float, clock: str) -> datetime:
    """A filing time `share` of the team's SLA (business time) before now."""
    slas = teams.slas_of(team)
    duration = slas.first_response if clock == "first_response" else slas.resolution
    assert duration is not None
    return bt.subtract(now, duration.within(slas.hours) * share, slas.hours)


def _ago(team: Any, now: datetime, working_days: float) -> datetime:
    """`working_days` of the team's business time before now (within its hours, so stats read well)."""
    hours = teams.slas_of(team).hours
    day = hours.day_length if hours else timedelta(hours=24)
    return bt.subtract(now, day * working_days, hours)


def _later(team: Any, at: datetime, delta: timedelta) -> datetime:
    return bt.add(at, delta, teams.slas_of(team).hours)


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

        def step(key: str, at: datetime, hours: float) -> datetime:
            return _later(team[key], at, hour * hours)

        # Resolved and rated, long ago: similar requests the FAQ suggestions can offer.
        at = _ago(team["legal"], now, 14)
        nda = file(
            "legal", "U0LENA", "NDA for the Acme pilot", at, details="Mutual NDA, Acme Corp, 3-month pilot."
        )
        service.claim(
            db_session=s, request_id=nda, actor_id="U0AMARA", is_admin=False, now=step("legal", at, 1)
        )
        service.resolve(
            db_session=s,
            request_id=nda,
            actor_id="U0AMARA",
            is_admin=False,
            note="Signed on our mutual NDA template; no changes needed.",
            now=step("legal", at, 3),
        )
        service.rate(
            db_session=s,
            request_id=nda,
            actor_id="U0LENA",
            is_admin=False,
            rating=4,
            now=step("legal", at, 4),
        )
        at = _ago(team["hr"], now, 8)
        leave = file("hr", "U0OMAR", "Parental leave policy for contractors", at)
        service.claim(
            db_session=s, request_id=leave, actor_id="U0LUCAS", is_admin=False, now=step("hr", at, 2)
        )
        service.resolve(
            db_session=s,
            request_id=leave,
            actor_id="U0LUCAS",
            is_admin=False,
            note="Contractors get the same 16 weeks; the policy page now says so.",
            now=step("hr", at, 12),
        )
        service.rate(
            db_session=s,
            request_id=leave,
            actor_id="U0OMAR",
            is_admin=False,
            rating=5,
            now=step("hr", at, 13),
        )
        # Resolved, waiting for the requester's rating.
        at = _ago(team["analytics"], now, 3)
        board = file(
            "analytics", "U0PRIYA", "Definition of an active team for the board deck", at, urgency="high"
        )
        service.claim(
            db_session=s, request_id=board, actor_id="U0SOFIA", is_admin=False, now=step("analytics", at, 1)
        )
        service.resolve(
            db_session=s,
            request_id=board,
            actor_id="U0SOFIA",
            is_admin=False,
            note="Three members active in the last 7 days; the metric is certified in the catalogue.",
            now=step("analytics", at, 5),
        )
        # Waiting on the requester: the resolution clock is paused.
        at = _ago(team["legal"], now, 2)
        dpa = file(
            "legal",
            "U0JONAS",
            "DPA review for the new payment gateway vendor",
            at,
            details="Vendor: PayFast. They sent their standard DPA; we need it signed before the pilot.",
        )
        service.claim(
            db_session=s, request_id=dpa, actor_id="U0AMARA", is_admin=False, now=step("legal", at, 1)
        )
        service.wait(
            db_session=s,
            request_id=dpa,
            actor_id="U0AMARA",
            is_admin=False,
            note="Please send the vendor's security questionnaire.",
            now=step("legal", at, 2),
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
            now=step("analytics", at, 0.5),
        )
        # New and past its first-response SLA: `jobs` announces the breach.
        at = _when(team["research"], now, 1.25, "first_response")
        file("research", "U0OMAR", "Recruit 8 SMB admins for onboarding interviews", at, urgency="high")
        # Two questions the FAQ answered before anything was filed (deflections in `/ssp stats`).
        for who, question, faq_id in (
            ("U0OMAR", "Access to the metrics dashboards", "How do I get access to the metrics dashboards?"),
            ("U0JONAS", "仪表盘访问权限", "如何获取仪表盘的访问权限？"),
        ):
            at = _ago(team["analytics"], now, 1)
            offered = faq.offer(db_session=s, team=team["analytics"], user_id=who, summary=question, now=at)
            entry = s.exec(select(TeamFaq).where(TeamFaq.question == faq_id)).first()
            faq.deflect(
                db_session=s,
                offer_id=offered.id or 0,
                user_id=who,
                answered_by=faq.faq_ref(entry.id if entry else 0),
                now=at,
            )
        # Just filed.
        file("analytics", "U0MAYA", "Cohort retention for the investor update", now - timedelta(minutes=20))
    for request_id in ids:
        notify.refresh_intake(ctx, client, request_id)
    log.info("demo requests seeded: %s", ", ".join(service.ref(i) for i in ids))
