"""Postmortem tables: the write-up, its participants, its timeline and its action items.

Indexes follow the queries in `bot/postmortems/service.py`: lists filter by status and sort by
recency; the :pushpin: listener finds the postmortems linked to a channel; a timeline is read by
(postmortem, at); "my action items", the App Home and the reminder job read open items by
(owner, status) and (status, due date). A timeline entry taken from a Slack message is unique per
(postmortem, channel, message ts) — that ts is the message's identity, so pinning a message twice,
or redrafting from the same channel, never adds it twice.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class Postmortem(SQLModel, table=True):
    """One incident write-up (`PM-n`), in the template's fields, moving draft → in_review → published."""

    __tablename__ = "postmortems"
    __table_args__ = (sa.Index("ix_postmortems_status_updated", "status", "updated_at"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    severity: int | None = Field(default=None)  # 1 (worst) … 4; None until someone sets it
    status: str = Field(default="draft", max_length=16)  # draft | in_review | published
    summary: str = Field(default="", sa_type=sa.Text)
    impact: str = Field(default="", sa_type=sa.Text)  # the story of the impact
    impact_who: str = Field(default="", max_length=500)  # who was affected
    impact_count: str = Field(default="", max_length=200)  # how many
    impact_duration: str = Field(default="", max_length=200)  # how long
    detection: str = Field(default="", sa_type=sa.Text)
    contributing_factors: str = Field(default="", sa_type=sa.Text)
    went_well: str = Field(default="", sa_type=sa.Text)
    went_poorly: str = Field(default="", sa_type=sa.Text)
    got_lucky: str = Field(default="", sa_type=sa.Text)
    links: str = Field(default="", sa_type=sa.Text)  # one per line
    channel_id: str | None = Field(default=None, max_length=32, index=True)  # the linked channel
    author_id: str = Field(max_length=32)
    drafted_with: str = Field(default="", max_length=200)  # the model that wrote the first summary
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    review_requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    published_by: str | None = Field(default=None, max_length=32)


class PostmortemParticipant(SQLModel, table=True):
    """Someone who took part in the incident or the write-up; participants may edit and move it."""

    __tablename__ = "postmortem_participants"

    postmortem_id: int = Field(foreign_key="postmortems.id", primary_key=True, ondelete="CASCADE")
    slack_id: str = Field(primary_key=True, max_length=32, index=True)


class TimelineEntry(SQLModel, table=True):
    """What happened when. `at` is when it happened (a message's own post time, never a pin time)."""

    __tablename__ = "postmortem_timeline"
    __table_args__ = (
        sa.Index("ix_postmortem_timeline_pm_at", "postmortem_id", "at"),
        sa.UniqueConstraint(
            "postmortem_id", "source_channel", "source_ts", name="uq_postmortem_timeline_source"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    postmortem_id: int = Field(foreign_key="postmortems.id", ondelete="CASCADE")
    at: datetime = Field(sa_type=UTCDateTime)
    text: str = Field(sa_type=sa.Text)
    source_channel: str | None = Field(default=None, max_length=32)
    source_ts: str | None = Field(default=None, max_length=32)
    source_link: str = Field(default="", max_length=500)
    posted_by: str | None = Field(default=None, max_length=32)  # who wrote the source message
    added_by: str = Field(max_length=32)  # who put it on the timeline
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ActionItem(SQLModel, table=True):
    """A follow-up (`AI-n`) with an owner and a due date; reminded until it is done."""

    __tablename__ = "postmortem_action_items"
    __table_args__ = (
        sa.Index("ix_postmortem_action_items_owner_status", "owner_id", "status"),
        sa.Index("ix_postmortem_action_items_status_due", "status", "due_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    postmortem_id: int = Field(foreign_key="postmortems.id", ondelete="CASCADE", index=True)
    title: str = Field(max_length=300)
    owner_id: str = Field(max_length=32)
    due_on: date
    kind: str = Field(default="corrective", max_length=16)  # detective | preventative | corrective
    status: str = Field(default="open", max_length=16)  # open | done
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by: str | None = Field(default=None, max_length=32)
