"""Each task counts its own interaction sequence numbers (safe with concurrent writers),
and says why it was queued (a column, no longer read from the notes of status events).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The notes the server wrote on status events up to this revision.
_REASONS = {"retry requested": "retry", "follow-up requested": "follow_up"}


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_sequence", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("queued_for", sa.String(16), nullable=False, server_default="new")
        )
        batch_op.add_column(
            sa.Column("attempt_sequence", sa.Integer(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE tasks SET last_sequence = COALESCE((SELECT MAX(i.sequence) FROM "
        "claude_interactions i WHERE i.task_id = tasks.id), 0)"
    )
    bind = op.get_bind()
    events = sa.table(
        "claude_interactions",
        sa.column("task_id", sa.String),
        sa.column("sequence", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("content", sa.Text),
        sa.column("data", sa.JSON),
    )
    tasks = sa.table(
        "tasks",
        sa.column("id", sa.String),
        sa.column("queued_for", sa.String),
        sa.column("attempt_sequence", sa.Integer),
    )
    pending = bind.execute(
        sa.select(events.c.task_id, events.c.sequence, events.c.data)
        .where(events.c.kind == "status", events.c.content == "pending")
        .order_by(events.c.task_id, events.c.sequence)
    )
    reasons: dict[str, tuple[str, int]] = {}
    for task_id, sequence, data in pending:
        note = data.get("note") if isinstance(data, dict) else None
        reason = _REASONS.get(note or "", "resume" if note else "new")
        attempt = sequence if reason in ("retry", "follow_up") else 0
        _, earlier_attempt = reasons.get(task_id, ("new", 0))
        reasons[task_id] = (reason, attempt or (earlier_attempt if reason == "resume" else 0))
    for task_id, (reason, attempt) in reasons.items():
        bind.execute(
            tasks.update()
            .where(tasks.c.id == task_id)
            .values(queued_for=reason, attempt_sequence=attempt)
        )


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("attempt_sequence")
        batch_op.drop_column("queued_for")
        batch_op.drop_column("last_sequence")
