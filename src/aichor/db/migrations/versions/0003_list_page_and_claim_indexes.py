"""indexes for list pages and the pipeline's claim scan

`ix_experiment_project_page` (project_id, created_at, id) serves the experiment list's keyset
pages (newest first, ties broken by id) straight from the index; it replaces
`ix_experiment_project_created`. `ix_experiment_due` gains `current_step`, so the claim scan
(active, past Waiting, lease expired) skips queued experiments inside the index instead of
visiting each of them; it replaces the two-column index of 0002.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.drop_index("ix_experiment_project_created")
        batch_op.create_index(
            "ix_experiment_project_page", ["project_id", "created_at", "id"], unique=False
        )
        batch_op.drop_index("ix_experiment_due")
        batch_op.create_index(
            "ix_experiment_due", ["status", "current_step", "claim_expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.drop_index("ix_experiment_due")
        batch_op.create_index("ix_experiment_due", ["status", "claim_expires_at"], unique=False)
        batch_op.drop_index("ix_experiment_project_page")
        batch_op.create_index(
            "ix_experiment_project_created", ["project_id", "created_at"], unique=False
        )
