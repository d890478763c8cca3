"""Digest subscriptions, the outbox of once-only messages, and the scheduler's leader record.

Schedules live here, not in APScheduler's job store (its FAQ: a job store must never be shared
between processes). A subscription stores its rule (daily or weekly, HH:MM, IANA zone) and the
next fire time that APScheduler's `CronTrigger` computed from it; the leader's tick picks the rows
whose `next_run_at` has passed (`ix_digest_subscriptions_next_run_at`), so being due is one
indexed range scan however many subscriptions there are. `version` makes advancing a row a
compare-and-set, so two schedulers racing on one row advance it once.

`delivery_outbox` holds a message whose delivery was claimed (`deliveries`) but is not yet known
to be posted: what to post and where, who is posting it and until when (`lease_until`). A row is
deleted once the post is confirmed or abandoned; see `bot/common/delivery.py` for the rule.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class DigestSubscription(SQLModel, table=True):
    """`/digest add <kind> daily|weekly …` in one channel: `D-<id>`."""

    __tablename__ = "digest_subscriptions"
    __table_args__ = (
        sa.UniqueConstraint(
            "channel_id", "kind", "cadence", "weekday", "at_time", "tz", name="uq_digest_subscriptions_rule"
        ),
        sa.Index("ix_digest_subscriptions_next_run_at", "next_run_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(max_length=32, index=True)
    kind: str = Field(max_length=16)  # okr | ssp | postmortems | reviews
    cadence: str = Field(max_length=8)  # daily | weekly
    weekday: str = Field(default="", max_length=3)  # mon … sun when weekly, "" when daily
    at_time: str = Field(max_length=5)  # HH:MM in `tz`
    tz: str = Field(max_length=64)  # IANA zone
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    next_run_at: datetime = Field(sa_type=UTCDateTime)  # the next fire time (UTC)
    version: int = Field(default=0)  # bumped on every advance: the compare-and-set token
    covered_until: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the last digest ran to


class OutboxMessage(SQLModel, table=True):
    """A claimed message not yet confirmed posted (`bot.common.delivery`)."""

    __tablename__ = "delivery_outbox"

    key: str = Field(primary_key=True, foreign_key="deliveries.key", ondelete="CASCADE", max_length=255)
    channel: str = Field(max_length=32)  # channel ID, or a user ID for a DM
    thread_ts: str | None = Field(default=None, max_length=32)
    payload: str = Field(sa_type=sa.Text)  # JSON: text, blocks
    owner: str = Field(max_length=96)  # the process posting it (host:pid:boot)
    attempts: int = Field(default=0)
    attempted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)  # app clock
    lease_until: datetime = Field(sa_type=UTCDateTime, index=True)  # app clock
    posted_after: float = Field(default=0.0)  # wall-clock epoch: Slack ts of a post is after this


class SchedulerLeader(SQLModel, table=True):
    """Who runs the scheduler now (one row). The lock itself is a PostgreSQL advisory lock or a
    file lock; this row only says who holds it, since when, and counts leadership terms."""

    __tablename__ = "scheduler_leader"

    id: int = Field(default=1, primary_key=True)
    term: int = Field(default=0)
    holder: str = Field(default="", max_length=96)
    acquired_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    heartbeat_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
