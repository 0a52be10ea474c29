"""A task's interactions: its numbered history of events (status moves, progress, what the
agent said and did, what people sent), stored with secrets scrubbed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session as DB

from claudeserver.persistence.models import ClaudeInteraction, Task, utcnow
from claudeserver.persistence.transactions import commit
from claudeserver.redact import env_secrets, redact, redact_data
from claudeserver.vocabulary import Kind, Role


def add_interaction(
    db: DB,
    *,
    task_id: str,
    role: Role,
    kind: Kind | str,
    content: str,
    data: dict[str, Any] | None = None,
) -> ClaudeInteraction:
    row = append_interaction(db, task_id=task_id, role=role, kind=kind, content=content, data=data)
    commit(db)
    return row


def append_interaction(
    db: DB,
    *,
    task_id: str,
    role: Role,
    kind: Kind | str,
    content: str,
    data: dict[str, Any] | None,
) -> ClaudeInteraction:
    """Add an event to the caller's transaction, without committing it."""
    # The task's row holds its last sequence number: the increment is one atomic UPDATE that
    # also locks the row until this transaction ends, so two writers never take the same.
    sequence = db.execute(
        update(Task)
        .where(Task.id == task_id)
        .values(last_sequence=Task.last_sequence + 1)
        .returning(Task.last_sequence)
    ).scalar_one()
    row = ClaudeInteraction(
        task_id=task_id,
        sequence=sequence,
        role=Role(role).value,  # a plain string must name a role too
        kind=kind.value if isinstance(kind, Kind) else kind,
        content=redact(content, secrets := env_secrets()),
        data=redact_data(data, secrets),
        created_at=utcnow(),
    )
    db.add(row)
    db.flush()
    return row


def interactions_after(
    db: DB,
    *,
    task_id: str | None,
    after: int,
    limit: int,
    session_id: str | None = None,
    role: Role | None = None,
) -> Sequence[ClaudeInteraction]:
    """Per task, `after` is a sequence number; across tasks it is the global row id."""
    stmt = select(ClaudeInteraction)
    if task_id is not None:
        stmt = stmt.where(
            ClaudeInteraction.task_id == task_id, ClaudeInteraction.sequence > after
        ).order_by(ClaudeInteraction.sequence)
    else:
        stmt = stmt.where(ClaudeInteraction.id > after).order_by(ClaudeInteraction.id)
        if session_id is not None:
            stmt = stmt.join(Task).where(Task.session_id == session_id)
    if role is not None:
        stmt = stmt.where(ClaudeInteraction.role == role.value)
    return db.scalars(stmt.limit(limit)).all()


def last_event_id(db: DB) -> int:
    """The id of the newest event of all tasks (0 when there is none)."""
    return int(db.scalar(select(func.max(ClaudeInteraction.id))) or 0)


def count_interactions(db: DB, *, task_id: str) -> int:
    stmt = select(func.count()).where(ClaudeInteraction.task_id == task_id)
    return int(db.scalar(stmt) or 0)


def last_interaction_text(db: DB, *, task_id: str, role: Role, kind: Kind) -> str:
    stmt = (
        select(ClaudeInteraction.content)
        .where(
            ClaudeInteraction.task_id == task_id,
            ClaudeInteraction.role == role.value,
            ClaudeInteraction.kind == kind.value,
        )
        .order_by(ClaudeInteraction.sequence.desc())
        .limit(1)
    )
    return db.scalar(stmt) or ""
