"""Tables every feature stands on: people, teams, processed events and the audit log."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class PersonBase(SQLModel):
    slack_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(default="", max_length=200)
    real_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320, index=True)
    tz: str = Field(default="UTC", max_length=64)
    is_admin: bool = Field(default=False)


class Person(PersonBase, table=True):
    """A Slack user as last seen through `users.info`, so renders need no API call."""

    __tablename__ = "people"

    refreshed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Team(SQLModel, table=True):
    """A product team or a central service team (`kind`), in one table for every feature.

    The service columns are set by `flywheel import teams` (see `bot/teams/`): SLA durations are
    kept as written (`4h`, `3d`) because a day means one working day of `business_hours`, which
    may change later; `confidential` hides the team's requests from everyone but the requester,
    the team's members and admins.
    """

    __tablename__ = "teams"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    kind: str = Field(default="product", max_length=16)  # product | service
    channel_id: str | None = Field(default=None, max_length=32)
    lead_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    first_response_sla: str | None = Field(default=None, max_length=16)
    resolution_sla: str | None = Field(default=None, max_length=16)
    business_hours: str | None = Field(default=None, max_length=120)
    confidential: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_members"

    team_id: int = Field(foreign_key="teams.id", primary_key=True, ondelete="CASCADE")
    slack_id: str = Field(primary_key=True, max_length=32, index=True)


class ProcessedEvent(SQLModel, table=True):
    """Slack event IDs already taken, shared by every replica through the database.

    The primary key makes the insert the lock: the replica whose insert wins handles the event.
    """

    __tablename__ = "processed_events"

    event_id: str = Field(primary_key=True, max_length=64)
    event_type: str = Field(default="", max_length=64)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class AuditLog(SQLModel, table=True):
    """Who did what to which record, when: kept for every change a user makes."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_record", "record_type", "record_id"),)

    id: int | None = Field(default=None, primary_key=True)
    actor_id: str = Field(max_length=32)
    action: str = Field(max_length=64)
    record_type: str = Field(max_length=32)
    record_id: str = Field(max_length=64)
    detail: str = Field(default="", max_length=4000)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Delivery(SQLModel, table=True):
    """A once-only effect, claimed before it happens (see `bot/common/delivery.py`).

    The primary key is the effect's identity, e.g. `ssp:breach:resolution:REQ-12` or
    `digest:D-3:2026-12-01T09:00`; whoever inserts it first is the one who sends.
    """

    __tablename__ = "deliveries"

    key: str = Field(primary_key=True, max_length=255)
    kind: str = Field(max_length=32, index=True)
    status: str = Field(default="claimed", max_length=16)  # claimed | sent | failed | skipped
    detail: str = Field(default="", max_length=500)
    claimed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
