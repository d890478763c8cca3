"""okrs: optional weights, confidence time, final scores, reflections, review subscriptions, carry-over

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01 20:32:57.220740

Data: weights become optional — an objective whose KRs all had the old default 1.0 gets NULL
weights (equal shares, as before; no "weights don't sum to 1" warning for something nobody set),
while objectives with weights someone chose keep them (the roll-up normalises them, so the shares
stay what they were). A confidence already stored counts from its KR's last check-in.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "okr_review_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel_id", "scope", name="uq_okr_review_sub_channel_scope"),
    )
    op.create_table(
        "okr_reflections",
        sa.Column("objective_id", sa.Integer(), nullable=False),
        sa.Column("worked", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("didnt", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("next", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("author_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["objective_id"], ["objectives.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("objective_id"),
    )
    with op.batch_alter_table("key_results", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confidence_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("final_score", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("final_scored_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.add_column(sa.Column("carried_from_id", sa.Integer(), nullable=True))
        batch_op.alter_column("weight", existing_type=sa.Float(), nullable=True)
        batch_op.create_index(batch_op.f("ix_key_results_carried_from_id"), ["carried_from_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_key_results_carried_from_id", "key_results", ["carried_from_id"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("objectives", schema=None) as batch_op:
        batch_op.add_column(sa.Column("carried_from_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_objectives_carried_from_id"), ["carried_from_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_objectives_carried_from_id", "objectives", ["carried_from_id"], ["id"], ondelete="SET NULL"
        )

    op.execute(
        "UPDATE key_results SET weight = NULL WHERE objective_id NOT IN "
        "(SELECT objective_id FROM key_results WHERE weight IS NOT NULL AND weight <> 1.0)"
    )
    op.execute("UPDATE key_results SET confidence_at = last_checkin_at WHERE confidence IS NOT NULL")


def downgrade() -> None:
    op.execute("UPDATE key_results SET weight = 1.0 WHERE weight IS NULL")
    with op.batch_alter_table("objectives", schema=None) as batch_op:
        batch_op.drop_constraint("fk_objectives_carried_from_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_objectives_carried_from_id"))
        batch_op.drop_column("carried_from_id")

    with op.batch_alter_table("key_results", schema=None) as batch_op:
        batch_op.drop_constraint("fk_key_results_carried_from_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_key_results_carried_from_id"))
        batch_op.alter_column("weight", existing_type=sa.Float(), nullable=False)
        batch_op.drop_column("carried_from_id")
        batch_op.drop_column("final_scored_by")
        batch_op.drop_column("final_score")
        batch_op.drop_column("confidence_at")

    op.drop_table("okr_reflections")
    op.drop_table("okr_review_subscriptions")
