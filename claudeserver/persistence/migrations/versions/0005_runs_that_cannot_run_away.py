"""Runs that cannot run away: a session's default budget, each task's context restarts, the
spend of each UTC day across tasks, and the last credential rejection a task saw.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_budget_usd", sa.Float(), nullable=True))
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("context_restarts", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "daily_spend",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "credential_rejections",
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("task_id", sa.String(36), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint"),
    )


def downgrade() -> None:
    op.drop_table("credential_rejections")
    op.drop_table("daily_spend")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("context_restarts")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("max_budget_usd")
