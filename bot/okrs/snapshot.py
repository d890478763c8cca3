"""The hot path: `/okr mine`, `/okr @user`, `/okr team` and the App Home, answered in the ack.

Kept apart from `service.py` because it is built for speed rather than for the ORM: one prebuilt
statement per dialect, its rows turned into plain read-only records that stand in for the models
in renders. No Slack imports; `service` re-exports `objectives_of` and `objectives_of_team`.
`objectives_of_cycle` reads a whole cycle the same way, and `objectives_matching` any set of
objectives, for the features that summarise OKRs (the digest's progress per team and movers).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session

from bot.okrs.scoring import Clock, ObjectiveState, objective_state
from storage.models import Team
from storage.models.okrs import KeyResult, Objective

# The hot path (`/okr mine`, `/okr @user`, `/okr team`, the App Home) is answered inside Slack's
# acknowledgement, so it is one prebuilt statement — objectives ⟕ team ⟕ key results, on the
# (owner, cycle) or (team, cycle) index — aggregated by the database into ONE row of JSON, which
# becomes plain read-only records. Measured (bench/okr_ack.py): building the statement and loading
# ORM identities per request cost more than the query; and with SQLite every fetched row is a
# `sqlite3_step` that releases the GIL, so under 8 concurrent requests each row could wait for
# another thread's time slice — one aggregated row kept throughput up where row-by-row halved it.
_O = Objective.__table__  # type: ignore[attr-defined]
_T = Team.__table__  # type: ignore[attr-defined]
_K = KeyResult.__table__  # type: ignore[attr-defined]
# Only what a render needs. Timestamps (which status needs) come as epoch seconds computed by the
# database: converting a datetime per row is the costliest part of a row, a float costs nothing.
_O_COLS = ["id", "cycle_key", "team_id", "owner_id", "parent_id", "title", "description"]
_K_COLS = [
    "id",
    "objective_id",
    "position",
    "title",
    "start",
    "target",
    "current",
    "unit",
    "weight",
    "confidence",
]
_K_TIMES = ["confidence_at", "last_checkin_at", "created_at"]


def _epoch_of(dialect: str, column: Any) -> Any:
    if dialect == "postgresql":
        return sa.extract("epoch", column)
    # SQLite stores UTC as `YYYY-MM-DD HH:MM:SS.ffffff`; julianday keeps the fraction.
    return (func.julianday(column) - 2440587.5) * 86400.0


@dataclass(slots=True, frozen=True)
class ObjectiveRow:
    """A read-only objective for renders; the hot path builds these instead of ORM instances."""

    id: int
    cycle_key: str
    team_id: int | None
    owner_id: str
    parent_id: int | None
    title: str
    description: str


@dataclass(slots=True, frozen=True)
class KrRow:
    id: int
    objective_id: int
    position: int
    title: str
    start: float
    target: float
    current: float
    unit: str
    weight: float | None
    confidence: int | None
    confidence_at: float | None  # epoch seconds
    last_checkin_at: float | None
    created_at: float | None


@dataclass(slots=True, frozen=True)
class TeamRow:
    id: int
    key: str
    name: str


def _snapshot_statement(dialect: str, *where: Any) -> Any:
    columns = [
        *(_O.c[name] for name in _O_COLS),
        _T.c.key,
        _T.c.name,
        *(_K.c[name] for name in _K_COLS),
        *(_epoch_of(dialect, _K.c[name]) for name in _K_TIMES),
    ]
    if dialect == "postgresql":
        aggregate = func.json_agg(func.json_build_array(*columns))
    else:
        aggregate = func.json_group_array(func.json_array(*columns))
    return (
        sa.select(aggregate)
        .select_from(_O.outerjoin(_T, _T.c.id == _O.c.team_id).outerjoin(_K, _K.c.objective_id == _O.c.id))
        .where(*where)
    )


_BY_OWNER_WHERE = (_O.c.owner_id == sa.bindparam("owner"), _O.c.cycle_key == sa.bindparam("cycle"))
_BY_TEAM_WHERE = (_O.c.team_id == sa.bindparam("team"), _O.c.cycle_key == sa.bindparam("cycle"))
_BY_CYCLE_WHERE = (_O.c.cycle_key == sa.bindparam("cycle"),)
_WHERE = {"owner": _BY_OWNER_WHERE, "team": _BY_TEAM_WHERE, "cycle": _BY_CYCLE_WHERE}
_STATEMENTS: dict[tuple[str, str], Any] = {}


def _connection(db: Session | sa.Connection) -> sa.Connection:
    return db if isinstance(db, sa.Connection) else db.connection()


def _statement(db_session: Session | sa.Connection, which: str) -> Any:
    dialect = _connection(db_session).dialect.name
    statement = _STATEMENTS.get((dialect, which))
    if statement is None:
        statement = _STATEMENTS[(dialect, which)] = _snapshot_statement(dialect, *_WHERE[which])
    return statement


def _snapshots(
    db_session: Session | sa.Connection, which: str, params: dict[str, Any], clock: Clock
) -> list[ObjectiveState]:
    conn = _connection(db_session)
    return _states(conn.execute(_statement(conn, which), params).scalar(), clock)


def _states(raw: Any, clock: Clock) -> list[ObjectiveState]:
    rows = json.loads(raw) if isinstance(raw, str) else (raw or [])  # psycopg decodes json itself
    n = len(_O_COLS)  # row layout: objective columns, team key and name, then KR columns
    rows.sort(key=lambda r: (r[0], r[n + 4] if r[n + 4] is not None else 0, r[n + 2] or 0))
    objectives: dict[int, tuple[ObjectiveRow, TeamRow | None, list[KrRow]]] = {}
    for row in rows:
        entry = objectives.get(row[0])
        if entry is None:
            team = TeamRow(row[2], row[n], row[n + 1]) if row[n] is not None else None
            entry = objectives[row[0]] = (ObjectiveRow(*row[:n]), team, [])
        if row[n + 2] is not None:
            entry[2].append(KrRow(*row[n + 2 :]))
    # Rows stand in for the models: renders only read these attributes.
    return [objective_state(o, t, krs, clock) for o, t, krs in objectives.values()]  # type: ignore[arg-type]


def objectives_of(
    *, db_session: Session | sa.Connection, owner_id: str, clock: Clock, cycle_key: str | None = None
) -> list[ObjectiveState]:
    """`/okr mine` and `/okr @user`: one query on the (owner, cycle) index; read-only snapshots.

    Takes a session, or — what the listeners pass — a bare connection: a read needs no unit of
    work, and skipping the session's begin and commit is a measurable share of the answer.
    """
    key = cycle_key or clock.current().key
    return _snapshots(db_session, "owner", {"owner": owner_id, "cycle": key}, clock)


def objectives_of_team(
    *, db_session: Session | sa.Connection, team: Team, clock: Clock, cycle_key: str | None = None
) -> list[ObjectiveState]:
    """`/okr team <name>`: one query on the (team, cycle) index; read-only snapshots."""
    key = cycle_key or clock.current().key
    return _snapshots(db_session, "team", {"team": team.id, "cycle": key}, clock)


def objectives_of_cycle(
    *, db_session: Session | sa.Connection, clock: Clock, cycle_key: str | None = None
) -> list[ObjectiveState]:
    """Every objective of the current cycle (or `cycle_key`) with its KRs, progress and status:
    one query on the cycle index, read-only snapshots (`objective.team_id`, `team` a `TeamRow`).

    For summaries of the whole company — a digest run computes it once for every channel — so it
    is the hot path's single aggregated row rather than thousands of ORM instances.
    """
    key = cycle_key or clock.current().key
    return _snapshots(db_session, "cycle", {"cycle": key}, clock)


# The tables, for callers composing `objectives_matching` conditions.
OBJECTIVES, KEY_RESULTS = _O, _K


def objectives_matching(
    *, db_session: Session | sa.Connection, clock: Clock, where: Sequence[Any]
) -> list[ObjectiveState]:
    """The objectives matching `where` (Core conditions on `OBJECTIVES`, e.g. those with a KR
    checked in during a window) with all their KRs, progress and status, read as the hot path
    reads them: one aggregated row, read-only records. The statement is built per call — for
    summaries, not for the acknowledgement."""
    conn = _connection(db_session)
    return _states(conn.execute(_snapshot_statement(conn.dialect.name, *where)).scalar(), clock)
