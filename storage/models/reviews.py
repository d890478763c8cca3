"""Tables of thread summaries and the model gateway.

The summary cache is keyed by (channel, thread): its `latest_ts` is the newest human reply the
stored summary covers, so an unchanged thread costs no model call and a grown one is updated from
its new replies only. Usage rows are written per model call so cost and failure rates are
answerable from SQL, not only from Prometheus' process-local counters.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class ThreadSummary(SQLModel, table=True):
    """The last summary produced for a thread, with what it covers."""

    __tablename__ = "review_summaries"
    __table_args__ = (sa.UniqueConstraint("channel_id", "thread_ts", name="uq_review_summaries_thread"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(max_length=32)
    thread_ts: str = Field(max_length=32)
    latest_ts: str = Field(max_length=32)  # newest reply (not ours) the summary covers
    message_count: int = Field(default=0)
    mode: str = Field(default="offline", max_length=16)  # model | offline
    model: str = Field(default="", max_length=200)
    body: str = Field(default="{}", sa_type=sa.Text)  # the structured summary as JSON
    requested_by: str = Field(default="", max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class ReviewChannel(SQLModel, table=True):
    """A channel registered with `/review channel #c`: its threads feed the weekly digest."""

    __tablename__ = "review_channels"

    channel_id: str = Field(primary_key=True, max_length=32)
    registered_by: str = Field(max_length=32)
    registered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LLMUsage(SQLModel, table=True):
    """One model call: what it was for, tokens both ways, latency and how it ended."""

    __tablename__ = "llm_usage"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    purpose: str = Field(default="", max_length=64)
    model: str = Field(default="", max_length=200)
    outcome: str = Field(max_length=32)  # ok | invalid | timeout | rate_limited | server_error | ...
    prompt_tokens: int = Field(default=0)
    completion_tokens: int = Field(default=0)
    estimated: bool = Field(default=False)  # token counts estimated locally (the server gave none)
    latency_ms: int = Field(default=0)
    attempts: int = Field(default=1)
    error: str = Field(default="", max_length=500)
