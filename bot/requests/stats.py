"""Figures about a service team's requests, for `/ssp stats`, the digests and the assistant: the
per-team stats, the SLA breaches in a window and the oldest open requests. No Slack imports.

Kept apart from `queries.py` (the lists people page through: mine, queue, one request) because
these are summaries over many requests. `stats` is aggregates only, so every employee may read it,
confidential teams too; `breaches_between` and `oldest_open` return request details and take the
teams the audience may see (`team_ids`) — the others come back as a count only, which is how a
digest in a channel shows a confidential team's requests (DESIGN §2 `/digest`).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.requests import sla
from bot.teams import service as teams
from storage.models import Team
from storage.models.requests import RequestEvent, RequestOffer, ServiceRequest


@dataclass
class TeamStats:
    """A team's figures over the last `days` days (open and breached are as of now)."""

    team: Team
    days: int
    open: int
    waiting: int
    breached_open: int
    filed: int
    resolved: int
    breached: int
    median_first_response: timedelta | None
    median_resolution: timedelta | None
    csat: float | None  # mean rating 1–5
    ratings: int
    satisfied: float | None  # share of ratings 4 or 5
    deflections: int


def _median(values: list[timedelta]) -> timedelta | None:
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values)) if values else None


def stats(*, db_session: Session, team: Team, now: datetime, days: int = 30) -> TeamStats:
    """Per-team figures (aggregates only, so every employee may read them, confidential teams too).

    First response and resolution are business time in the team's hours; resolution excludes
    the time spent waiting on the requester.
    """
    since = now - timedelta(days=days)
    slas = teams.slas_of(team)
    by_status = dict(
        db_session.exec(
            select(ServiceRequest.status, func.count())
            .where(ServiceRequest.team_id == team.id, col(ServiceRequest.status).in_(sla.OPEN))
            .group_by(ServiceRequest.status)
        ).all()
    )
    breached_open = db_session.exec(
        select(func.count()).where(
            ServiceRequest.team_id == team.id,
            col(ServiceRequest.status).in_(sla.OPEN),
            sa.or_(col(ServiceRequest.first_response_breached), col(ServiceRequest.resolution_breached)),
        )
    ).one()
    recent = db_session.exec(
        select(ServiceRequest)
        .where(ServiceRequest.team_id == team.id, col(ServiceRequest.created_at) >= since)
        .order_by(col(ServiceRequest.id).desc())
        .limit(5000)
    ).all()
    first = [t for r in recent if (t := sla.first_response_time(r, slas)) is not None]
    resolution = [t for r in recent if (t := sla.resolution_time(r)) is not None]
    ratings = [r.rating for r in recent if r.rating is not None]
    deflections = db_session.exec(
        select(func.count()).where(
            RequestOffer.team_id == team.id,
            RequestOffer.outcome == "deflected",
            col(RequestOffer.decided_at) >= since,
        )
    ).one()
    return TeamStats(
        team=team,
        days=days,
        open=sum(int(v) for v in by_status.values()),
        waiting=int(by_status.get("waiting", 0)),
        breached_open=int(breached_open),
        filed=len(recent),
        resolved=sum(1 for r in recent if r.resolved_at is not None),
        breached=sum(1 for r in recent if r.first_response_breached or r.resolution_breached),
        median_first_response=_median(first),
        median_resolution=_median(resolution),
        csat=statistics.fmean(ratings) if ratings else None,
        ratings=len(ratings),
        satisfied=sum(1 for r in ratings if r >= 4) / len(ratings) if ratings else None,
        deflections=int(deflections),
    )


def all_stats(*, db_session: Session, now: datetime, days: int = 30) -> list[TeamStats]:
    return [
        stats(db_session=db_session, team=t, now=now, days=days)
        for t in teams.service_teams(db_session=db_session)
    ]


# ---- the digest's lists ----------------------------------------------------------------------

_R = ServiceRequest.__table__  # type: ignore[attr-defined]
_E = RequestEvent.__table__  # type: ignore[attr-defined]
_T = Team.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RequestLine:
    id: int
    team_name: str
    summary: str
    status: str
    created_at: datetime
    at: datetime  # the breach (for breaches) or the filing time (for the oldest)
    clock: str = ""  # first_response | resolution (breaches)


def _lines(rows: list[sa.Row]) -> list[RequestLine]:  # type: ignore[type-arg]
    return [RequestLine(*row) for row in rows]


def breaches_between(
    *, db_session: Session, since: datetime, until: datetime, team_ids: set[int], limit: int
) -> tuple[list[RequestLine], int, int]:
    """SLA breaches announced in (since, until]: the newest of `team_ids`' (the teams the audience
    may see), how many of those, and how many in other teams (shown as a count only)."""
    window = (_E.c.kind == "sla_breach", _E.c.at > since, _E.c.at <= until)
    base = sa.select(sa.func.count()).select_from(_E.join(_R, _R.c.id == _E.c.request_id)).where(*window)
    conn = db_session.connection()
    visible = _R.c.team_id.in_(team_ids) if team_ids else sa.false()
    total = int(conn.execute(base.where(visible)).scalar() or 0)
    hidden = int(conn.execute(base.where(sa.not_(visible))).scalar() or 0)
    rows = conn.execute(
        sa.select(_R.c.id, _T.c.name, _R.c.summary, _R.c.status, _R.c.created_at, _E.c.at, _E.c.detail)
        .select_from(_E.join(_R, _R.c.id == _E.c.request_id).join(_T, _T.c.id == _R.c.team_id))
        .where(*window, visible)
        .order_by(_E.c.at.desc(), _E.c.id.desc())
        .limit(limit)
    ).all()
    return _lines(rows), total, hidden


def oldest_open(*, db_session: Session, team_ids: set[int], limit: int) -> tuple[list[RequestLine], int, int]:
    """The longest-open requests of `team_ids`, how many are open there, and how many elsewhere."""
    is_open = _R.c.status.in_(sla.OPEN)
    visible = _R.c.team_id.in_(team_ids) if team_ids else sa.false()
    conn = db_session.connection()
    counted = sa.select(sa.func.count()).select_from(_R).where(is_open)
    total = int(conn.execute(counted.where(visible)).scalar() or 0)
    hidden = int(conn.execute(counted.where(sa.not_(visible))).scalar() or 0)
    rows = conn.execute(
        sa.select(_R.c.id, _T.c.name, _R.c.summary, _R.c.status, _R.c.created_at, _R.c.created_at)
        .select_from(_R.join(_T, _T.c.id == _R.c.team_id))
        .where(is_open, visible)
        .order_by(_R.c.created_at, _R.c.id)
        .limit(limit)
    ).all()
    return _lines(rows), total, hidden
