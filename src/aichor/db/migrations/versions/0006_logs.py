"""logs: when retention purged an experiment's logs, and the index the purge scans

`experiment.logs_purged_at` records that the organisation's log retention deleted the logs, so
the experiment says so instead of showing an empty log. `ix_experiment_logs_kept`
(logs_purged_at, finished_at) lets the purge find ended experiments whose logs are still kept
without visiting the others. `organisation.log_retention_days` exists since 0001.

Revision ID: 0006_logs
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_logs"
down_revision = "0005_storage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("logs_purged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_experiment_logs_kept", ["logs_purged_at", "finished_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.drop_index("ix_experiment_logs_kept")
        batch_op.drop_column("logs_purged_at")
