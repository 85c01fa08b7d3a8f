"""indexes for member lookups and due experiments

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.create_index("ix_experiment_due", ["status", "claim_expires_at"], unique=False)

    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invitation_org_created", ["organisation_id", "created_at"], unique=False
        )

    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index("ix_membership_user", ["user_id"], unique=False)

    with op.batch_alter_table("project_member", schema=None) as batch_op:
        batch_op.create_index("ix_project_member_user", ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("project_member", schema=None) as batch_op:
        batch_op.drop_index("ix_project_member_user")

    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_index("ix_membership_user")

    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index("ix_invitation_org_created")

    with op.batch_alter_table("experiment", schema=None) as batch_op:
        batch_op.drop_index("ix_experiment_due")
