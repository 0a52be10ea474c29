"""Tasks: their rows, and every status change as a guarded UPDATE that also writes an event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import selectinload

from claudeserver.persistence.interactions import append_interaction
from claudeserver.persistence.models import (
    ClaudeInteraction,
    Task,
    TestCase,
    TranscriptEntry,
    utcnow,
)
from claudeserver.persistence.transactions import commit
from claudeserver.vocabulary import TERMINAL, Kind, QueuedFor, Role, TaskStatus, allowed_sources


def create_task(db: DB, *, session_id: str, description: str, **options: Any) -> Task:
    task = Task(
        session_id=session_id,
        description=description,
        status=TaskStatus.PENDING.value,
        **options,
    )
    db.add(task)
    db.flush()
    append_interaction(
        db, task_id=task.id, role=Role.SYSTEM, kind=Kind.STATUS, content="pending", data=None
    )
    commit(db)
    return task


def get_task(db: DB, *, task_id: str, with_details: bool = False) -> Task | None:
    if not with_details:
        return db.get(Task, task_id)
    # Interactions are paged separately: a long history must not be loaded whole.
    stmt = select(Task).where(Task.id == task_id).options(selectinload(Task.test_cases))
    return db.scalars(stmt).first()


def list_session_tasks(db: DB, *, session_id: str) -> Sequence[Task]:
    stmt = (
        select(Task)
        .where(Task.session_id == session_id)
        .order_by(Task.created_at.desc(), Task.id.desc())
    )
    return db.scalars(stmt).all()


def tasks_with_status(db: DB, *, statuses: Sequence[TaskStatus]) -> Sequence[Task]:
    stmt = (
        select(Task)
        .where(Task.status.in_([s.value for s in statuses]))
        .order_by(Task.priority.desc(), Task.created_at, Task.id)
    )
    return db.scalars(stmt).all()


def list_tasks(
    db: DB,
    *,
    status: TaskStatus | None,
    session_id: str | None,
    limit: int,
    before: tuple[datetime, str] | None,
) -> Sequence[Task]:
    """Newest first; `before` is the (created_at, id) of the last task of the previous page."""
    stmt = select(Task).order_by(Task.created_at.desc(), Task.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(Task.status == status.value)
    if session_id is not None:
        stmt = stmt.where(Task.session_id == session_id)
    if before is not None:
        created, task_id = before
        stmt = stmt.where(
            (Task.created_at < created) | ((Task.created_at == created) & (Task.id < task_id))
        )
    return db.scalars(stmt).all()


def expired_workspaces(db: DB, *, before: datetime) -> Sequence[Task]:
    """Finished tasks whose workspace still exists and that ended before `before`."""
    stmt = select(Task).where(
        Task.status.in_([s.value for s in TERMINAL]),
        Task.workspace.is_not(None),
        Task.workspace_removed_at.is_(None),
        Task.completed_at < before,
    )
    return db.scalars(stmt).all()


def totals_by_status(db: DB) -> dict[str, tuple[int, float, int, int]]:
    """Per status: how many tasks, their cost in USD, input and output tokens."""
    stmt = select(
        Task.status,
        func.count(),
        func.coalesce(func.sum(Task.cost_usd), 0.0),
        func.coalesce(func.sum(Task.input_tokens), 0),
        func.coalesce(func.sum(Task.output_tokens), 0),
    ).group_by(Task.status)
    return {
        status: (int(count), float(cost), int(tokens_in), int(tokens_out))
        for status, count, cost, tokens_in, tokens_out in db.execute(stmt)
    }


def status_of(db: DB, *, task_id: str) -> tuple[str | None, str | None]:
    """The task's status and error, read fresh from the database."""
    row = db.execute(select(Task.status, Task.error).where(Task.id == task_id)).first()
    return (row[0], row[1]) if row else (None, None)


def transition(
    db: DB,
    *,
    task_id: str,
    to: TaskStatus,
    note: str | None = None,
    only_from: frozenset[TaskStatus] | None = None,
    follow_up: str | None = None,
    queued_for: QueuedFor | None = None,
    **fields: Any,
) -> bool:
    """Move a task to `to` only from a status the table allows (narrowed by `only_from`).

    False when the task was not in such a status, e.g. because another move won. A
    `follow_up` (a person's new request for a finished task) is stored with the move, in
    the same commit, so that it exists exactly when the move happened. A move to pending
    says why (`queued_for`); one a person asked for starts a new attempt there.
    """
    if queued_for is not None:
        fields["queued_for"] = queued_for.value
    sources = allowed_sources(to) if only_from is None else allowed_sources(to) & only_from
    values: dict[str, Any] = {"status": to.value, "updated_at": utcnow(), **fields}
    if to is TaskStatus.RUNNING:
        values.setdefault("started_at", func.coalesce(Task.started_at, utcnow()))
    if to.is_terminal:
        values.setdefault("completed_at", utcnow())
    stmt = (
        update(Task)
        .where(Task.id == task_id, Task.status.in_([s.value for s in sources]))
        .values(**values)
    )
    moved = bool(db.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]
    if moved:
        if follow_up is not None:
            append_interaction(
                db, task_id=task_id, role=Role.USER, kind=Kind.FOLLOW_UP, content=follow_up,
                data=None,
            )  # fmt: skip
        event = append_interaction(
            db,
            task_id=task_id,
            role=Role.SYSTEM,
            kind=Kind.STATUS,
            content=to.value,
            data={"note": note, "progress": fields.get("progress")},
        )
        if queued_for in (QueuedFor.RETRY, QueuedFor.FOLLOW_UP):
            db.execute(
                update(Task).where(Task.id == task_id).values(attempt_sequence=event.sequence)
            )
    commit(db)
    db.expire_all()  # loaded rows must not show the status from before this UPDATE
    return moved


def set_progress(db: DB, *, task_id: str, progress: str) -> None:
    db.execute(
        update(Task).where(Task.id == task_id).values(progress=progress, updated_at=utcnow())
    )
    append_interaction(
        db, task_id=task_id, role=Role.SYSTEM, kind=Kind.PROGRESS, content=progress, data=None
    )
    commit(db)


def update_task(db: DB, *, task_id: str, **fields: Any) -> None:
    db.execute(update(Task).where(Task.id == task_id).values(updated_at=utcnow(), **fields))
    commit(db)
    db.expire_all()


def delete_task(db: DB, *, task_id: str) -> bool:
    """Delete a finished task and every row about it: events, tests, its Claude transcript.

    False, with nothing deleted, when the task is not finished (any more). The guarded
    no-op UPDATE locks the task's row first, so a concurrent retry cannot revive it
    halfway through.
    """
    finished = [s.value for s in TERMINAL]
    claim = update(Task).where(Task.id == task_id, Task.status.in_(finished))
    if db.execute(claim.values(status=Task.status)).rowcount != 1:  # type: ignore[attr-defined]
        db.rollback()
        return False
    conversations = _conversations(db, task_id=task_id)
    db.execute(delete(ClaudeInteraction).where(ClaudeInteraction.task_id == task_id))
    db.execute(delete(TestCase).where(TestCase.task_id == task_id))
    if conversations:
        db.execute(delete(TranscriptEntry).where(TranscriptEntry.session_id.in_(conversations)))
    db.execute(delete(Task).where(Task.id == task_id))
    db.commit()
    db.expire_all()
    return True


def _conversations(db: DB, *, task_id: str) -> list[str]:
    """The task's Claude conversation, and those it left for a fresh one (context restarts)."""
    current = db.scalar(select(Task.claude_session_id).where(Task.id == task_id))
    stmt = select(ClaudeInteraction.data).where(
        ClaudeInteraction.task_id == task_id,
        ClaudeInteraction.role == "system",
        ClaudeInteraction.kind == Kind.CONTEXT_RESTART.value,
    )
    earlier = [d.get("previous_session_id") for d in db.scalars(stmt) if isinstance(d, dict)]
    return [c for c in (current, *earlier) if isinstance(c, str)]
