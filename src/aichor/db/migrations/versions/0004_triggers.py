"""git triggers: encrypted webhook secrets, push deliveries, one experiment per commit+manifest

`project.webhook_secret` becomes TEXT (a Fernet token is longer than 100 characters).
`experiment.trigger_key` (sha256 of commit and manifest) is unique per project, so two
deliveries of the same push, even at the same moment, start one experiment; `triggered_by`
names the provider. `webhook_delivery` remembers each delivery id and the answer it got.

Revision ID: 0004_triggers
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_triggers"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.alter_column(
            "webhook_secret", existing_type=sa.String(length=100), type_=sa.Text()
        )
    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trigger_key", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("triggered_by", sa.String(length=20), nullable=False, server_default="")
        )
        batch_op.create_index("ux_experiment_trigger", ["project_id", "trigger_key"], unique=True)
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organisation_id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=36), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("delivery_id", sa.String(length=200), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "provider", "delivery_id"),
    )


def downgrade() -> None:
    op.drop_table("webhook_delivery")
    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.drop_index("ux_experiment_trigger")
        batch_op.drop_column("triggered_by")
        batch_op.drop_column("trigger_key")
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.alter_column(
            "webhook_secret", existing_type=sa.Text(), type_=sa.String(length=100)
        )
