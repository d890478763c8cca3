"""Shared-service queries the digest needs beyond `bot.requests.queries.stats`: SLA breaches in a
window and the oldest open requests, restricted to the teams a channel's audience may see.

They belong to the requests feature; they live here until they move, reading its tables only
through its models and its open statuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from bot.requests import sla
from storage.models import Team
from storage.models.requests import RequestEvent, ServiceRequest

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
