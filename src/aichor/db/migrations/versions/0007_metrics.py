"""per-replica resource samples (metric_point)

Revision ID: 0007_metrics
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_metrics"
down_revision = "0006_logs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_point",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("experiment_id", sa.String(length=36), nullable=False),
        sa.Column("replica", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cpu", sa.Float(), nullable=False),
        sa.Column("memory_bytes", sa.BigInteger(), nullable=False),
        sa.Column("gpu_util", sa.Float(), nullable=True),
        sa.Column("gpu_memory_bytes", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["experiment_id"], ["experiment.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("metric_point", schema=None) as batch_op:
        batch_op.create_index(
            "ix_metric_point_series", ["experiment_id", "replica", "at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("metric_point", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_point_series")
    op.drop_table("metric_point")
