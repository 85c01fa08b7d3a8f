"""project storage: each project's buckets and S3 access keys

Revision ID: 0005_storage
Revises: 0007_metrics
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_storage"
down_revision = "0004_triggers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "project_storage",
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("input_bucket", sa.String(length=63), nullable=False),
        sa.Column("output_bucket", sa.String(length=63), nullable=False),
        sa.Column("access_key_id", sa.String(length=40), nullable=False),
        sa.Column("secret_key", sa.Text(), nullable=False),
        sa.Column("user_key_id", sa.String(length=40), nullable=True),
        sa.Column("user_secret_key", sa.Text(), nullable=True),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("project_id"),
        sa.UniqueConstraint("access_key_id"),
        sa.UniqueConstraint("user_key_id"),
    )


def downgrade() -> None:
    op.drop_table("project_storage")
