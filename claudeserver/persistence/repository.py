"""Data functions. Every status change is a guarded UPDATE that also writes an event row.

Each write commits on its own, unless it runs inside a `unit_of_work`: then the unit's
writes commit together when it ends, or none of them.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import selectinload, sessionmaker

from claudeserver.persistence.models import (
    ClaudeInteraction,
    CredentialRejection,
    DailySpend,
    Session,
    Task,
    TestCase,
    TranscriptEntry,
    utcnow,
)
from claudeserver.redact import env_secrets, redact, redact_data
from claudeserver.vocabulary import TERMINAL, Kind, QueuedFor, Role, TaskStatus, allowed_sources

_UNIT = "unit_of_work"


@contextlib.contextmanager
def unit_of_work(factory: sessionmaker[DB]) -> Iterator[DB]:
    """A session whose writes commit together at the end of the block (rolled back if it
    raises). Keep the block short and without awaits: its writes lock the task's row."""
    with factory() as db:
        db.info[_UNIT] = True
        yield db
        del db.info[_UNIT]
        db.commit()


def _commit(db: DB) -> None:
    if db.info.get(_UNIT):
        db.flush()  # the unit of work commits
    else:
        db.commit()


def create_session(
    db: DB, *, project_path: str, isolation: str, base_branch: str | None, **options: Any
) -> Session:
    row = Session(
        project_path=project_path, isolation=isolation, base_branch=base_branch, **options
    )
    db.add(row)
    _commit(db)
    return row


def get_session(db: DB, *, session_id: str) -> Session | None:
    return db.get(Session, session_id)


def list_sessions(db: DB) -> Sequence[Session]:
    return db.scalars(select(Session).order_by(Session.created_at.desc())).all()


def delete_session(db: DB, *, session_id: str) -> bool:
    """Delete a session that has no tasks left; False when it has some (or is gone)."""
    has_tasks = select(Task.id).where(Task.session_id == session_id).exists()
    stmt = delete(Session).where(Session.id == session_id, ~has_tasks)
    deleted = bool(db.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]
    _commit(db)
    return deleted


def create_task(db: DB, *, session_id: str, description: str, **options: Any) -> Task:
    task = Task(
        session_id=session_id,
        description=description,
        status=TaskStatus.PENDING.value,
        **options,
    )
    db.add(task)
    db.flush()
    _append_interaction(
        db, task_id=task.id, role=Role.SYSTEM, kind=Kind.STATUS, content="pending", data=None
    )
    _commit(db)
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
            _append_interaction(
                db, task_id=task_id, role=Role.USER, kind=Kind.FOLLOW_UP, content=follow_up,
                data=None,
            )  # fmt: skip
        event = _append_interaction(
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
    _commit(db)
    db.expire_all()  # loaded rows must not show the status from before this UPDATE
    return moved


def set_progress(db: DB, *, task_id: str, progress: str) -> None:
    db.execute(
        update(Task).where(Task.id == task_id).values(progress=progress, updated_at=utcnow())
    )
    _append_interaction(
        db, task_id=task_id, role=Role.SYSTEM, kind=Kind.PROGRESS, content=progress, data=None
    )
    _commit(db)


def status_of(db: DB, *, task_id: str) -> tuple[str | None, str | None]:
    """The task's status and error, read fresh from the database."""
    row = db.execute(select(Task.status, Task.error).where(Task.id == task_id)).first()
    return (row[0], row[1]) if row else (None, None)


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


def expired_workspaces(db: DB, *, before: datetime) -> Sequence[Task]:
    """Finished tasks whose workspace still exists and that ended before `before`."""
    stmt = select(Task).where(
        Task.status.in_([s.value for s in TERMINAL]),
        Task.workspace.is_not(None),
        Task.workspace_removed_at.is_(None),
        Task.completed_at < before,
    )
    return db.scalars(stmt).all()


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


def update_task(db: DB, *, task_id: str, **fields: Any) -> None:
    db.execute(update(Task).where(Task.id == task_id).values(updated_at=utcnow(), **fields))
    _commit(db)
    db.expire_all()


def add_interaction(
    db: DB,
    *,
    task_id: str,
    role: Role,
    kind: Kind | str,
    content: str,
    data: dict[str, Any] | None = None,
) -> ClaudeInteraction:
    row = _append_interaction(db, task_id=task_id, role=role, kind=kind, content=content, data=data)
    _commit(db)
    return row


def _append_interaction(
    db: DB,
    *,
    task_id: str,
    role: Role,
    kind: Kind | str,
    content: str,
    data: dict[str, Any] | None,
) -> ClaudeInteraction:
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


def last_event_id(db: DB) -> int:
    """The id of the newest event of all tasks (0 when there is none)."""
    return int(db.scalar(select(func.max(ClaudeInteraction.id))) or 0)


def count_interactions(db: DB, *, task_id: str) -> int:
    stmt = select(func.count()).where(ClaudeInteraction.task_id == task_id)
    return int(db.scalar(stmt) or 0)


# Longer test ids are stored shortened (unique by a digest): PostgreSQL cannot index a
# value of more than about 2.7 kB, and the ids are unique per task and type.
MAX_TEST_NAME_CHARS = 500


def stored_test_name(name: str) -> str:
    if len(name) <= MAX_TEST_NAME_CHARS:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{name[: MAX_TEST_NAME_CHARS - 20]}…[{digest}]"


def save_test_cases(
    db: DB,
    *,
    task_id: str,
    test_type: str,
    results: Sequence[Any],
    baseline_status: Mapping[str, str] | None = None,
    flaky: Collection[str] = (),
) -> None:
    """Store one test run: each test by name keeps one row, updated in place on reruns.

    `baseline_status` maps test ids to their outcome before the task; a test once seen
    flaky stays marked so.
    """
    before = baseline_status or {}
    rows = {
        row.name: row
        for row in db.scalars(
            select(TestCase).where(TestCase.task_id == task_id, TestCase.type == test_type)
        )
    }
    for result in results:
        name = stored_test_name(result.name)
        row = rows.get(name)
        if row is None:  # a runner that reports a test twice updates the one row
            row = rows[name] = TestCase(task_id=task_id, name=name, type=test_type, flaky=False)
            db.add(row)
        row.file_path = result.file_path
        row.status = result.status
        row.output = result.output
        row.duration = result.duration
        row.baseline_status = before.get(result.name)
        row.flaky = row.flaky or result.name in flaky
    _commit(db)


def drop_test_cases(db: DB, *, task_id: str, test_type: str, keep: set[str]) -> None:
    """Forget generated tests the agent has since deleted, so the summary counts what exists."""
    kept = {stored_test_name(name) for name in keep}
    for row in db.scalars(
        select(TestCase).where(TestCase.task_id == task_id, TestCase.type == test_type)
    ):
        if row.name not in kept:
            db.delete(row)
    _commit(db)


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


def count_sessions(db: DB) -> int:
    return int(db.scalar(select(func.count()).select_from(Session)) or 0)


# (status, baseline status, flaky, how many) of a task's test cases
OutcomeCount = tuple[str, "str | None", bool, int]


def test_outcomes(db: DB, *, task_ids: Sequence[str]) -> dict[str, list[OutcomeCount]]:
    """Each task's test cases counted by outcome, in one query however many tasks."""
    stmt = (
        select(
            TestCase.task_id,
            TestCase.status,
            TestCase.baseline_status,
            TestCase.flaky,
            func.count(),
        )
        .where(TestCase.task_id.in_(task_ids))
        .group_by(TestCase.task_id, TestCase.status, TestCase.baseline_status, TestCase.flaky)
    )
    by_task: dict[str, list[OutcomeCount]] = {task_id: [] for task_id in task_ids}
    for task_id, status, before, flaky, n in db.execute(stmt):
        by_task[task_id].append((status, before, bool(flaky), int(n)))
    return by_task


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


def _upsert(db: DB, model: type[Any], values: dict[str, Any], update: dict[str, Any]) -> None:
    """INSERT, or UPDATE with `update` when the primary key exists: one atomic statement."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(model).values(**values)
    keys = [c.name for c in model.__table__.primary_key]
    db.execute(stmt.on_conflict_do_update(index_elements=keys, set_=update))
    _commit(db)


def add_spend(db: DB, *, day: str, cost_usd: float) -> None:
    """Add to what all tasks spent on `day` (YYYY-MM-DD, UTC); safe from many processes."""
    _upsert(
        db,
        DailySpend,
        {"day": day, "cost_usd": cost_usd},
        {"cost_usd": DailySpend.cost_usd + cost_usd},
    )


def spent_on(db: DB, *, day: str) -> float:
    return float(db.scalar(select(DailySpend.cost_usd).where(DailySpend.day == day)) or 0.0)


def record_credential_rejection(db: DB, *, fingerprint: str, task_id: str, message: str) -> None:
    values = {"task_id": task_id, "message": message, "created_at": utcnow()}
    _upsert(db, CredentialRejection, {"fingerprint": fingerprint, **values}, values)


def credential_rejection(db: DB, *, fingerprint: str) -> CredentialRejection | None:
    return db.get(CredentialRejection, fingerprint)


def clear_credential_rejection(db: DB, *, fingerprint: str) -> None:
    db.execute(delete(CredentialRejection).where(CredentialRejection.fingerprint == fingerprint))
    _commit(db)
