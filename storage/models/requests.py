"""Shared-service request tables: requests, their append-only history, FAQ entries and offers.

Indexes follow the queries in `bot/requests/queries.py` (read their plans with `EXPLAIN QUERY
PLAN`; `bench/ack.py` prints them): `/ssp mine` reads one requester's requests by status, so
(requester_id, status) is one index range; `/ssp queue` reads a team's open requests oldest SLA
first, so (team_id, status, resolution_due) serves both the filter and the order; the SLA watcher
reads running requests by their next warning or due time, (status, next_check_at).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class ServiceRequest(SQLModel, table=True):
    """A request to a service team. SLA columns are derived state, recomputed on every change.

    The resolution clock runs in `new` and `in_progress` only: `resolution_used_s` is the
    business time already spent in earlier running stretches, `clock_started_at` the start of the
    current one (None while paused), so a resume needs no replay of the history.
    """

    __tablename__ = "ssp_requests"
    __table_args__ = (
        sa.Index("ix_ssp_requests_requester_status", "requester_id", "status"),
        sa.Index("ix_ssp_requests_team_status_due", "team_id", "status", "resolution_due"),
        sa.Index("ix_ssp_requests_status_check", "status", "next_check_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="teams.id", ondelete="CASCADE")
    requester_id: str = Field(max_length=32)
    summary: str = Field(max_length=3000)
    details: str = Field(default="", sa_type=sa.Text)
    urgency: str = Field(default="normal", max_length=16)  # low | normal | high | urgent
    status: str = Field(default="new", max_length=16)  # new | in_progress | waiting | resolved | closed
    assignee_id: str | None = Field(default=None, max_length=32)
    source_link: str | None = Field(default=None, max_length=500)
    intake_channel: str | None = Field(default=None, max_length=32)
    intake_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # SLA clocks (None: the team sets no such SLA, or the clock is paused / stopped).
    first_response_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_response_warn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolution_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolution_warn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolution_used_s: int = Field(default=0)
    clock_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_check_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the watcher's next look
    first_response_warned: bool = Field(default=False)
    first_response_breached: bool = Field(default=False)
    resolution_warned: bool = Field(default=False)
    resolution_breached: bool = Field(default=False)
    rating: int | None = Field(default=None)
    rated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RequestEvent(SQLModel, table=True):
    """One thing that happened to a request. Rows are only ever added, never changed."""

    __tablename__ = "ssp_request_events"
    __table_args__ = (sa.Index("ix_ssp_request_events_request_at", "request_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="ssp_requests.id", ondelete="CASCADE")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: str = Field(max_length=32)  # a Slack user, or `flywheel` for the SLA watcher
    # created | status | assigned | comment | sla_warning | sla_breach | rating
    kind: str = Field(max_length=16)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    detail: str = Field(default="", sa_type=sa.Text)


class TeamFaq(SQLModel, table=True):
    """A question a service team answers often (`/ssp faq add`, or `faq:` in the teams file)."""

    __tablename__ = "ssp_faq"
    __table_args__ = (sa.UniqueConstraint("team_id", "question", name="uq_ssp_faq_team_question"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="teams.id", ondelete="CASCADE", index=True)
    question: str = Field(max_length=500)
    answer: str = Field(max_length=3000)
    created_by: str = Field(default="", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RequestOffer(SQLModel, table=True):
    """A request about to be filed, shown the closest answers first ("deflection").

    It keeps what the asker wrote until they choose: "This answered it" (`deflected`, counted in
    the team's stats) or "Still need help" (`filed`, the request is created from it).
    """

    __tablename__ = "ssp_offers"
    __table_args__ = (sa.Index("ix_ssp_offers_team_outcome", "team_id", "outcome", "decided_at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="teams.id", ondelete="CASCADE")
    user_id: str = Field(max_length=32)
    summary: str = Field(max_length=3000)
    details: str = Field(default="", sa_type=sa.Text)
    urgency: str = Field(default="normal", max_length=16)
    source_link: str | None = Field(default=None, max_length=500)
    outcome: str = Field(default="offered", max_length=16)  # offered | deflected | filed
    answered_by: str | None = Field(default=None, max_length=32)  # `FAQ-3` or `REQ-12`
    request_id: int | None = Field(default=None)
    offered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
