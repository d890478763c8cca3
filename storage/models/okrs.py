"""OKR tables: cycles, objectives, key results and their check-ins.

Indexes follow the queries in `bot/okrs/service.py` (read their plans with `EXPLAIN QUERY PLAN`):
`/okr mine` and `/okr @user` filter objectives by (owner, cycle) — a composite index turns that
into one index range instead of a scan of the whole cycle (DESIGN §4 measured 2× the answers/s);
`/okr team` filters by (team, cycle); the tree walks `parent_id`; every render loads a page of
key results by `objective_id` and history loads check-ins by (key_result_id, at). A carried-over
objective or KR points at the one it continues (`carried_from_id`), so history follows it back.

Times are written from the app's clock (`ctx.clock`), not the column defaults, so the demo's
`clock` command and frozen test clocks see the same "now" in what is stored as in what is shown.
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
    carried_from_id: int | None = Field(
        default=None, foreign_key="objectives.id", ondelete="SET NULL", index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class KeyResult(SQLModel, table=True):
    """A measurable result. `current` and `confidence` mirror the latest check-in for fast renders.

    `weight` is None unless someone set one (0–1): unset KRs share what the set ones leave of 1.
    `confidence` is the one given with the latest check-in (None when it gave none), and
    `confidence_at` when it was given: status only trusts it for 14 days. `final_score` is the
    owner's 0.0–1.0 grade from the cycle review, when given.
    """

    __tablename__ = "key_results"

    id: int | None = Field(default=None, primary_key=True)
    objective_id: int = Field(foreign_key="objectives.id", ondelete="CASCADE", index=True)
    position: int = Field(default=0)
    title: str = Field(max_length=200)
    start: float = Field(default=0.0)
    target: float
    current: float
    unit: str = Field(default="", max_length=32)
    weight: float | None = Field(default=None)
    confidence: int | None = Field(default=None)
    confidence_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_checkin_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    final_score: float | None = Field(default=None)
    final_scored_by: str | None = Field(default=None, max_length=32)
    carried_from_id: int | None = Field(
        default=None, foreign_key="key_results.id", ondelete="SET NULL", index=True
    )
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


class OkrReflection(SQLModel, table=True):
    """An objective's cycle review (复盘): what worked, what didn't, what next. One per objective."""

    __tablename__ = "okr_reflections"

    objective_id: int = Field(foreign_key="objectives.id", ondelete="CASCADE", primary_key=True)
    worked: str = Field(default="", max_length=1000)
    didnt: str = Field(default="", max_length=1000)
    next: str = Field(default="", max_length=1000)
    author_id: str = Field(max_length=32)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OkrReviewSubscription(SQLModel, table=True):
    """A channel that gets a cycle review on the cycle's last day: the company's or one team's.

    `scope` is `company` or `team:<id>` (unique per channel), so a channel can follow the company
    review and several teams' without duplicates; `team_id` is kept for joins, and deleting the team
    deletes its subscriptions.
    """

    __tablename__ = "okr_review_subscriptions"
    __table_args__ = (sa.UniqueConstraint("channel_id", "scope", name="uq_okr_review_sub_channel_scope"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(max_length=32)
    scope: str = Field(max_length=32)
    team_id: int | None = Field(default=None, foreign_key="teams.id", ondelete="CASCADE")
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
