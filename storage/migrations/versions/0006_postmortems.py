"""postmortems: write-ups, participants, timeline, action items

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01 20:30:47.041528
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "postmortems",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("impact", sa.Text(), nullable=False),
        sa.Column("impact_who", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("impact_count", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("impact_duration", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("detection", sa.Text(), nullable=False),
        sa.Column("contributing_factors", sa.Text(), nullable=False),
        sa.Column("went_well", sa.Text(), nullable=False),
        sa.Column("went_poorly", sa.Text(), nullable=False),
        sa.Column("got_lucky", sa.Text(), nullable=False),
        sa.Column("links", sa.Text(), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("author_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("drafted_with", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("review_requested_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("postmortems", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_postmortems_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_postmortems_published_at"), ["published_at"], unique=False)
        batch_op.create_index("ix_postmortems_status_updated", ["status", "updated_at"], unique=False)

    op.create_table(
        "postmortem_action_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("postmortem_id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("owner_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.ForeignKeyConstraint(["postmortem_id"], ["postmortems.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("postmortem_action_items", schema=None) as batch_op:
        batch_op.create_index("ix_postmortem_action_items_owner_status", ["owner_id", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_postmortem_action_items_postmortem_id"), ["postmortem_id"], unique=False
        )
        batch_op.create_index("ix_postmortem_action_items_status_due", ["status", "due_on"], unique=False)

    op.create_table(
        "postmortem_participants",
        sa.Column("postmortem_id", sa.Integer(), nullable=False),
        sa.Column("slack_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.ForeignKeyConstraint(["postmortem_id"], ["postmortems.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("postmortem_id", "slack_id"),
    )
    with op.batch_alter_table("postmortem_participants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_postmortem_participants_slack_id"), ["slack_id"], unique=False)

    op.create_table(
        "postmortem_timeline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("postmortem_id", sa.Integer(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source_channel", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("source_ts", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("source_link", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("posted_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("added_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["postmortem_id"], ["postmortems.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "postmortem_id", "source_channel", "source_ts", name="uq_postmortem_timeline_source"
        ),
    )
    with op.batch_alter_table("postmortem_timeline", schema=None) as batch_op:
        batch_op.create_index("ix_postmortem_timeline_pm_at", ["postmortem_id", "at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("postmortem_timeline", schema=None) as batch_op:
        batch_op.drop_index("ix_postmortem_timeline_pm_at")

    op.drop_table("postmortem_timeline")
    with op.batch_alter_table("postmortem_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_postmortem_participants_slack_id"))

    op.drop_table("postmortem_participants")
    with op.batch_alter_table("postmortem_action_items", schema=None) as batch_op:
        batch_op.drop_index("ix_postmortem_action_items_status_due")
        batch_op.drop_index(batch_op.f("ix_postmortem_action_items_postmortem_id"))
        batch_op.drop_index("ix_postmortem_action_items_owner_status")

    op.drop_table("postmortem_action_items")
    with op.batch_alter_table("postmortems", schema=None) as batch_op:
        batch_op.drop_index("ix_postmortems_status_updated")
        batch_op.drop_index(batch_op.f("ix_postmortems_published_at"))
        batch_op.drop_index(batch_op.f("ix_postmortems_channel_id"))

    op.drop_table("postmortems")
