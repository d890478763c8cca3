"""Reading requests: a person's own, a team's queue, one request and the catalogue.

`mine` and `queue` answer inside Slack's acknowledgement (`bench/ack.py` measures them over
50,000 requests), so each is one narrow Core statement on its composite index returning plain
read-only rows, not ORM instances. Everything here obeys `service.can_see`; the public entry
points for other features (digests, the DM assistant) are `mine`, `queue`, `status`, `stats`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.common.errors import Forbidden, UserError
from bot.requests import service, sla

# Team figures and the digest's breach and oldest-open lists live in `stats.py`; `stats`,
# `all_stats` and `TeamStats` stay importable from here, where `/ssp stats` and callers know them.
from bot.requests.stats import TeamStats, all_stats, stats  # noqa: F401
from bot.teams import service as teams
from storage.models import Person, Team, TeamMember
from storage.models.requests import RequestEvent, ServiceRequest, TeamFaq

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
_MINE_WHERE = (_R.c.requester_id == sa.bindparam("user"), _R.c.status.in_(MINE_STATUSES))
_QUEUE_WHERE = (_R.c.team_id.in_(sa.bindparam("teams", expanding=True)), _R.c.status.in_(sla.OPEN))
# Plain statements, for reading their plans (bench/ack.py prints them).
MINE_SQL = sa.select(*_COLUMNS).select_from(_FROM).where(*_MINE_WHERE).order_by(_R.c.id.desc())
QUEUE_SQL = (
    sa.select(*_COLUMNS)
    .select_from(_FROM)
    .where(*_QUEUE_WHERE)
    .order_by(_R.c.resolution_due.is_(None), _R.c.resolution_due, _R.c.id)
    .limit(sa.bindparam("limit", type_=sa.Integer))
)

# The hot path runs them aggregated into ONE row of JSON, with the viewer's zone (and the
# queue's total) alongside: with SQLite each fetched row is a `sqlite3_step` that releases the
# GIL, so under concurrent requests row-by-row fetching (and per-value type conversion) cost more
# than the query; `bot/okrs/service.py` measured the same. Rows are re-sorted in Python, since
# neither database promises an aggregate keeps its subquery's order.
_P = Person.__table__  # type: ignore[attr-defined]
_M = TeamMember.__table__  # type: ignore[attr-defined]
_TZ = sa.select(_P.c.tz).where(_P.c.slack_id == sa.bindparam("user")).scalar_subquery()
_STATEMENTS: dict[tuple[str, str], Any] = {}


def _aggregate(dialect: str, columns: list[Any]) -> Any:
    if dialect == "postgresql":
        return func.coalesce(func.json_agg(func.json_build_array(*columns)), sa.text("'[]'::json"))
    return func.json_group_array(func.json_array(*columns))


def _my_teams() -> Any:
    return (
        sa.select(_T.c.id, _T.c.key, _T.c.name)
        .where(
            _T.c.kind == teams.SERVICE,
            sa.or_(
                _T.c.lead_id == sa.bindparam("user"),
                _T.c.id.in_(sa.select(_M.c.team_id).where(_M.c.slack_id == sa.bindparam("user"))),
            ),
        )
        .subquery()
    )


def _build(dialect: str, which: str) -> Any:
    if which == "viewer":
        my_teams = _my_teams()
        agg = sa.select(_aggregate(dialect, list(my_teams.c))).select_from(my_teams).scalar_subquery()
        return sa.select(_TZ, agg)
    labelled = [c.label(f"c{i}") for i, c in enumerate(_COLUMNS)]
    if which == "mine":
        sub = sa.select(*labelled).select_from(_FROM).where(*_MINE_WHERE).subquery()
        rows = sa.select(_aggregate(dialect, list(sub.c))).select_from(sub).scalar_subquery()
        return sa.select(_TZ, rows)
    # One index-ordered range per open status, each stopping at `limit` rows: the index
    # (team_id, status, resolution_due) then serves the order too, so a team with hundreds of
    # open requests costs `limit` row lookups per status instead of a sort over all of them.
    limit = sa.bindparam("limit", type_=sa.Integer)
    # One team (the usual case) compares with `=`: an expanding IN is re-rendered per execution.
    # `myqueue` also answers who is asking: their zone, their teams, and the queue of the first
    # of them (the usual case is one team; with more, `queue` runs again over all of them).
    my_teams = _my_teams()
    if which == "myqueue":
        first = sa.select(func.min(my_teams.c.id)).scalar_subquery()
        team_match = _R.c.team_id == first
    elif which == "queue1":
        team_match = _R.c.team_id == sa.bindparam("team")
    else:
        team_match = _R.c.team_id.in_(sa.bindparam("teams", expanding=True))
    parts = []
    for status in sla.OPEN:
        part = (
            sa.select(*labelled)
            .select_from(_FROM)
            .where(team_match, _R.c.status == status)
            .order_by(_R.c.resolution_due, _R.c.id)
            .limit(limit)
            .subquery()
        )
        parts.append(sa.select(*part.c))
    sub = sa.union_all(*parts).subquery()
    rows = sa.select(_aggregate(dialect, list(sub.c))).select_from(sub).scalar_subquery()
    total = (
        sa.select(func.count()).select_from(_R).where(team_match, _R.c.status.in_(sla.OPEN)).scalar_subquery()
    )
    if which == "myqueue":
        agg = sa.select(_aggregate(dialect, list(my_teams.c))).select_from(my_teams).scalar_subquery()
        return sa.select(_TZ, agg, rows, total)
    return sa.select(rows, total)


def _statement(db_session: Session, which: str) -> Any:
    dialect = db_session.get_bind().dialect.name
    statement = _STATEMENTS.get((dialect, which))
    if statement is None:
        statement = _STATEMENTS[(dialect, which)] = _build(dialect, which)
    return statement


def _json(value: Any) -> list[Any]:
    return json.loads(value) if isinstance(value, str) else (value or [])  # psycopg decodes json itself


def _when(value: Any) -> datetime | None:
    if value is None:
        return None
    at = datetime.fromisoformat(str(value))
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _row(raw: list[Any]) -> RequestRow:
    return RequestRow(
        raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7],
        _when(raw[8]), _when(raw[9]), _when(raw[10]), _when(raw[11]), bool(raw[12]), raw[13],
    )  # fmt: skip


@dataclass(slots=True, frozen=True)
class TeamRef:
    """A team as lists need it (the queue's title)."""

    id: int
    key: str
    name: str


@dataclass
class Viewer:
    """Who is asking, for the hot path: their zone and the service teams they are on."""

    user_id: str
    tz: str
    teams: list[TeamRef]


def viewer(*, db_session: Session, user_id: str) -> Viewer:
    tz, raw = db_session.connection().execute(_statement(db_session, "viewer"), {"user": user_id}).one()
    found = sorted((TeamRef(*t) for t in _json(raw)), key=lambda t: t.name)
    return Viewer(user_id, tz or "UTC", found)


def mine_with_zone(*, db_session: Session, user_id: str) -> tuple[str, list[RequestRow]]:
    """`/ssp mine` in one statement: the viewer's zone and their open or unrated requests, newest first."""
    tz, raw = db_session.connection().execute(_statement(db_session, "mine"), {"user": user_id}).one()
    rows = sorted((_row(r) for r in _json(raw)), key=lambda r: -r.id)
    return tz or "UTC", rows


def mine(*, db_session: Session, user_id: str) -> list[RequestRow]:
    """A person's requests that are open or resolved but not yet closed, newest first."""
    return mine_with_zone(db_session=db_session, user_id=user_id)[1]


@dataclass
class Queue:
    teams: list[Any]  # Team or TeamRef: lists only read `id` and `name`
    rows: list[RequestRow]
    total: int


def queue_teams(*, db_session: Session, user_id: str, is_admin: bool, team_name: str | None) -> list[Any]:
    """The teams whose queue a person may read: a named one (members and admins), or their own."""
    if team_name:
        team = teams.find_service(db_session=db_session, name=team_name)
        if not service.can_triage(db_session=db_session, team=team, user_id=user_id, is_admin=is_admin):
            raise Forbidden(
                f"Only members of {team.name} and admins can see its queue. "
                f"`/ssp mine` shows your own requests."
            )
        return [team]
    mine_teams = viewer(db_session=db_session, user_id=user_id).teams
    if not mine_teams:
        if is_admin:
            return teams.service_teams(db_session=db_session)
        raise UserError(
            "You are not on a service team, so you have no queue.",
            hint="Name a team you are on: `/ssp queue <team>` — or see your own requests with `/ssp mine`.",
        )
    return mine_teams


def _queue_key(raw: list[Any]) -> tuple[bool, str, int]:
    """Most urgent SLA first, paused last. On the raw JSON values: both databases write one
    timestamp format throughout (UTC), so the strings sort as the instants do, and only the rows
    kept are parsed."""
    return (raw[11] is None, str(raw[11] or ""), int(raw[0]))


def my_queue(*, db_session: Session, user_id: str, limit: int = 10) -> tuple[Viewer, Queue | None]:
    """`/ssp queue` for the teams you are on, in one statement: who you are and your queue (None
    when you are on no service team)."""
    params = {"user": user_id, "limit": limit}
    tz, raw_teams, raw, total = (
        db_session.connection().execute(_statement(db_session, "myqueue"), params).one()
    )
    me = Viewer(user_id, tz or "UTC", sorted((TeamRef(*t) for t in _json(raw_teams)), key=lambda t: t.name))
    if not me.teams:
        return me, None
    if len(me.teams) > 1:
        return me, queue(db_session=db_session, team_list=me.teams, limit=limit)
    rows = [_row(r) for r in sorted(_json(raw), key=_queue_key)[:limit]]
    return me, Queue(me.teams, rows, int(total or 0))


def queue(*, db_session: Session, team_list: list[Any], limit: int = 10) -> Queue:
    """Open requests of the teams, the most urgent SLA first (paused ones last), and how many."""
    which = "queue1" if len(team_list) == 1 else "queue"
    params = (
        {"team": team_list[0].id, "limit": limit}
        if which == "queue1"
        else {"teams": [t.id for t in team_list], "limit": limit}
    )
    raw, total = db_session.connection().execute(_statement(db_session, which), params).one()
    rows = [_row(r) for r in sorted(_json(raw), key=_queue_key)[:limit]]
    return Queue(team_list, rows, int(total or 0))


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
