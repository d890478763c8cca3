"""OKR tables: cycles, objectives, key results and their check-ins.

Indexes follow the queries in `bot/okrs/service.py` (read their plans with `EXPLAIN QUERY PLAN`):
`/okr mine` and `/okr @user` filter objectives by (owner, cycle) — a composite index turns that
into one index range instead of a scan of the whole cycle (DESIGN §4 measured 2× the answers/s);
`/okr team` filters by (team, cycle); the tree walks `parent_id`; every render loads a page of
key results by `objective_id` and history loads check-ins by (key_result_id, at).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class OkrCycle(SQLModel, table=True):
    """A planning period, keyed by the month it starts (`2026-11`); `ends_on` is exclusive.

    Dates, not timestamps: a cycle starts at midnight in the company's time zone
    (`FLYWHEEL_TIMEZONE`), which is applied when elapsed time is computed.
    """

    __tablename__ = "okr_cycles"

    key: str = Field(primary_key=True, max_length=7)
    starts_on: date
    ends_on: date
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Objective(SQLModel, table=True):
    __tablename__ = "objectives"
    __table_args__ = (
        sa.Index("ix_objectives_owner_cycle", "owner_id", "cycle_key"),
        sa.Index("ix_objectives_team_cycle", "team_id", "cycle_key"),
        sa.Index("ix_objectives_cycle_title", "cycle_key", "title"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cycle_key: str = Field(foreign_key="okr_cycles.key", max_length=7)
    team_id: int | None = Field(default=None, foreign_key="teams.id", ondelete="SET NULL")
    owner_id: str = Field(max_length=32)
    parent_id: int | None = Field(default=None, foreign_key="objectives.id", ondelete="SET NULL", index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    created_by: str = Field(default="", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class KeyResult(SQLModel, table=True):
    """A measurable result. `current` and `confidence` mirror the latest check-in for fast renders."""

    __tablename__ = "key_results"

    id: int | None = Field(default=None, primary_key=True)
    objective_id: int = Field(foreign_key="objectives.id", ondelete="CASCADE", index=True)
    position: int = Field(default=0)
    title: str = Field(max_length=200)
    start: float = Field(default=0.0)
    target: float
    current: float
    unit: str = Field(default="", max_length=32)
    weight: float = Field(default=1.0)
    confidence: int | None = Field(default=None)
    last_checkin_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CheckIn(SQLModel, table=True):
    """One recorded progress update. Rows are only ever added: the history is never overwritten."""

    __tablename__ = "okr_checkins"
    __table_args__ = (sa.Index("ix_okr_checkins_kr_at", "key_result_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key_result_id: int = Field(foreign_key="key_results.id", ondelete="CASCADE")
    value: float
    confidence: int | None = Field(default=None)
    note: str = Field(default="", max_length=2000)
    author_id: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
