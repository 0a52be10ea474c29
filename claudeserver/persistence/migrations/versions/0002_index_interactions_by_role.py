"""Index interactions by task, role and sequence: a running task's watch for a person's
messages becomes an index seek instead of a scan of its whole history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("claude_interactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interactions_task_role_seq", ["task_id", "role", "sequence"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("claude_interactions", schema=None) as batch_op:
        batch_op.drop_index("ix_interactions_task_role_seq")
