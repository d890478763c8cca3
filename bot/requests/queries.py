"""Reading requests: a person's own, a team's queue, one request, the catalogue and team stats.

`mine` and `queue` answer inside Slack's acknowledgement (`bench/ack.py` measures them over
50,000 requests), so each is one narrow Core statement on its composite index returning plain
read-only rows, not ORM instances. Everything here obeys `service.can_see`; the public entry
points for other features (digests, the DM assistant) are `mine`, `queue`, `status`, `stats`.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.common.errors import Forbidden, UserError
from bot.requests import service, sla
from bot.teams import service as teams
from storage.models import Team
from storage.models.requests import RequestEvent, RequestOffer, ServiceRequest, TeamFaq

MINE_STATUSES = ("new", "in_progress", "waiting", "resolved")

_R = ServiceRequest.__table__  # type: ignore[attr-defined]
_T = Team.__table__  # type: ignore[attr-defined]


@dataclass(slots=True, frozen=True)
class RequestRow:
    """A read-only request for lists (mine, queue, Home, digests)."""

    id: int
    team_key: str
    team_name: str
    requester_id: str
    summary: str
    status: str
    urgency: str
    assignee_id: str | None
    created_at: datetime
    first_response_at: datetime | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    breached: bool
    rating: int | None

    @property
    def ref(self) -> str:
        return service.ref(self.id)


_COLUMNS = (
    _R.c.id,
    _T.c.key,
    _T.c.name,
    _R.c.requester_id,
    _R.c.summary,
    _R.c.status,
    _R.c.urgency,
    _R.c.assignee_id,
    _R.c.created_at,
    _R.c.first_response_at,
    _R.c.first_response_due,
    _R.c.resolution_due,
    sa.or_(_R.c.first_response_breached, _R.c.resolution_breached),
    _R.c.rating,
)
_FROM = _R.join(_T, _T.c.id == _R.c.team_id)
MINE_SQL = (
    sa.select(*_COLUMNS)
    .select_from(_FROM)
    .where(_R.c.requester_id == sa.bindparam("user"), _R.c.status.in_(MINE_STATUSES))
    .order_by(_R.c.id.desc())
)
QUEUE_SQL = (
    sa.select(*_COLUMNS)
    .select_from(_FROM)
    .where(_R.c.team_id.in_(sa.bindparam("teams", expanding=True)), _R.c.status.in_(sla.OPEN))
    .order_by(_R.c.resolution_due.is_(None), _R.c.resolution_due, _R.c.id)
    .limit(sa.bindparam("limit"))
)
QUEUE_COUNT_SQL = sa.select(func.count()).where(
    _R.c.team_id.in_(sa.bindparam("teams", expanding=True)), _R.c.status.in_(sla.OPEN)
)


def _rows(db_session: Session, statement: sa.Select, params: dict[str, object]) -> list[RequestRow]:
    return [RequestRow(*row) for row in db_session.connection().execute(statement, params)]


def mine(*, db_session: Session, user_id: str) -> list[RequestRow]:
    """A person's requests that are open or resolved but not yet closed, newest first."""
    return _rows(db_session, MINE_SQL, {"user": user_id})


@dataclass
class Queue:
    teams: list[Team]
    rows: list[RequestRow]
    total: int


def queue_teams(*, db_session: Session, user_id: str, is_admin: bool, team_name: str | None) -> list[Team]:
    """The teams whose queue a person may read: a named one (members and admins), or their own."""
    if team_name:
        team = teams.find_service(db_session=db_session, name=team_name)
        if not service.can_triage(db_session=db_session, team=team, user_id=user_id, is_admin=is_admin):
            raise Forbidden(
                f"Only members of {team.name} and admins can see its queue. "
                f"`/ssp mine` shows your own requests."
            )
        return [team]
    ids = teams.team_ids_of(db_session=db_session, user_id=user_id, kind=teams.SERVICE)
    if not ids:
        if is_admin:
            return teams.service_teams(db_session=db_session)
        raise UserError(
            "You are not on a service team, so you have no queue.",
            hint="Name a team you are on: `/ssp queue <team>` — or see your own requests with `/ssp mine`.",
        )
    return [t for t in teams.service_teams(db_session=db_session) if t.id in ids]


def queue(*, db_session: Session, team_list: list[Team], limit: int = 25) -> Queue:
    """Open requests of the teams, the most urgent SLA first (paused ones last)."""
    params = {"teams": [t.id for t in team_list], "limit": limit}
    rows = _rows(db_session, QUEUE_SQL, params)
    total = len(rows)
    if total >= limit:
        total = int(db_session.connection().execute(QUEUE_COUNT_SQL, params).scalar() or 0)
    return Queue(team_list, rows, total)


@dataclass
class Detail:
    request: ServiceRequest
    team: Team
    events: list[RequestEvent]
    resolution_left: timedelta | None
    viewer_is_team: bool


def status(*, db_session: Session, request_id: int, user_id: str, is_admin: bool, now: datetime) -> Detail:
    """One request with its history, as `user_id` may see it (`NotFound` otherwise)."""
    req, team = service.get_visible(
        db_session=db_session, request_id=request_id, user_id=user_id, is_admin=is_admin
    )
    return Detail(
        request=req,
        team=team,
        events=service.history(db_session=db_session, request_id=request_id),
        resolution_left=sla.resolution_left(req, teams.slas_of(team), now),
        viewer_is_team=service.can_triage(
            db_session=db_session, team=team, user_id=user_id, is_admin=is_admin
        ),
    )


@dataclass
class CatalogueEntry:
    team: Team
    slas: teams.Slas
    faq_count: int
    open_count: int


def catalogue(*, db_session: Session) -> list[CatalogueEntry]:
    """Every service team with its SLAs, hours, FAQ size and how many requests it has open."""
    faq = dict(db_session.exec(select(TeamFaq.team_id, func.count()).group_by(TeamFaq.team_id)).all())
    open_counts = dict(
        db_session.exec(
            select(ServiceRequest.team_id, func.count())
            .where(col(ServiceRequest.status).in_(sla.OPEN))
            .group_by(ServiceRequest.team_id)
        ).all()
    )
    return [
        CatalogueEntry(t, teams.slas_of(t), int(faq.get(t.id, 0)), int(open_counts.get(t.id, 0)))
        for t in teams.service_teams(db_session=db_session)
    ]


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
