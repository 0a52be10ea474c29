"""Every way a task changes hands, each in one place: create (and what stands in the way
of a new task), cancel, retry, follow up, and requeue after a crash.

The HTTP routes, the command line, the executors and any other front end call these.
Each is a guarded transition (vocabulary.py): two processes can never both move a
task, and a move that lost the race is reported, not half done. Deleting is in
deletion.py, what a person does with a task's workspace in task_workspace.py; announcing
an end (the webhook) is `Executor.task_ended`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.domain import approvals, credentials, spending
from claudeserver.domain.executor import Executor
from claudeserver.persistence import interactions, sessions, tasks
from claudeserver.persistence.models import Task
from claudeserver.settings import Settings
from claudeserver.vocabulary import ACTIVE, TERMINAL, Kind, QueuedFor, Role, TaskStatus

CANCEL_WAIT_SECONDS = 5.0
_POLL_SECONDS = 0.05


class TaskNotFound(LookupError):
    def __init__(self, task_id: str) -> None:
        super().__init__(f"task {task_id} not found")
        self.task_id = task_id


class SessionNotFound(LookupError):
    def __init__(self, session_id: str, *, hint: str = "") -> None:
        super().__init__(f"session {session_id} not found{hint}")
        self.session_id = session_id


class NotNow(Exception):
    """The task's current state does not allow the move; the message says why."""


def get(db: DB, task_id: str, *, with_details: bool = False) -> Task:
    task = tasks.get_task(db, task_id=task_id, with_details=with_details)
    if task is None:
        raise TaskNotFound(task_id)
    return task


def create(
    db: DB, executor: Executor | None, *, session_id: str, description: str, **options: Any
) -> Task:
    if sessions.get_session(db, session_id=session_id) is None:
        raise SessionNotFound(session_id, hint="; create it first")
    task = tasks.create_task(db, session_id=session_id, description=description, **options)
    if executor is not None:
        executor.submit(task.id)
    return task


def obstacles(db: DB, settings: Settings) -> list[str]:
    """What stands in the way of a new task, said at once rather than when it fails."""
    found = []
    creds = credentials.status(db, cli_command=settings.claude_cli_command)
    if not creds.startswith(credentials.OK):
        found.append(f"Credentials {creds}")
    hold = spending.daily_hold(db, settings.daily_budget_usd)
    if hold is not None:
        found.append(hold)
    return found


def cancel(db: DB, executor: Executor | None, *, task_id: str, reason: str) -> bool:
    """End a pending or active task as cancelled; False when it already was.

    Its runner, in whichever process, sees the status and stops its agent and processes.
    """
    task = get(db, task_id)
    if task.status == TaskStatus.CANCELLED.value:
        return False
    if TaskStatus(task.status).is_terminal:
        raise NotNow(f"task {task_id} already ended as {task.status}")
    moved = tasks.transition(
        db, task_id=task_id, to=TaskStatus.CANCELLED, note=reason,
        summary=f"Cancelled: {reason}", error=reason, progress="Cancelled",
    )  # fmt: skip
    if moved:
        approvals.expire_pending(db, task_id=task_id, why="the task was cancelled")
    if moved and executor is not None:
        executor.task_ended(task_id)
    return moved


async def wait_until_ended(
    factory: sessionmaker[DB], task_id: str, timeout: float = CANCEL_WAIT_SECONDS
) -> Task:
    """The task once it is in a final status, or as it is after `timeout` seconds."""
    for _ in range(int(timeout / _POLL_SECONDS)):
        with factory() as db:
            task = get(db, task_id)
            if TaskStatus(task.status).is_terminal:
                return task
        await asyncio.sleep(_POLL_SECONDS)
    with factory() as db:
        return get(db, task_id)


def add_message(db: DB, *, task_id: str, content: str) -> Any:
    """A person's message to the agent of a running task; its runner delivers it."""
    task = get(db, task_id)
    if TaskStatus(task.status) not in ACTIVE:
        raise NotNow(f"task {task_id} is {task.status}; messages need a running task")
    return interactions.add_interaction(
        db, task_id=task_id, role=Role.USER, kind=Kind.MESSAGE, content=content
    )


def retry(db: DB, executor: Executor | None, *, task_id: str) -> Task:
    """A failed or cancelled task runs again, resuming its Claude conversation."""
    task = get(db, task_id)
    moved = tasks.transition(
        db, task_id=task_id, to=TaskStatus.PENDING, note="retry requested",
        queued_for=QueuedFor.RETRY, only_from=frozenset({TaskStatus.FAILED, TaskStatus.CANCELLED}),
        **_new_attempt(task), progress="Queued for retry",
    )  # fmt: skip
    if not moved:
        raise NotNow(
            f"task {task_id} is {task.status}; only failed or cancelled tasks can be retried"
        )
    return _queued(db, executor, task_id)


def follow_up(db: DB, executor: Executor | None, *, task_id: str, request: str) -> Task:
    """A finished task runs again on a new request, in its workspace and conversation."""
    task = get(db, task_id)
    if task.workspace_removed_at is not None:
        raise NotNow(f"the workspace of task {task_id} was removed; submit a new task instead")
    moved = tasks.transition(
        db, task_id=task_id, to=TaskStatus.PENDING, note="follow-up requested",
        queued_for=QueuedFor.FOLLOW_UP, only_from=TERMINAL, follow_up=request,
        **_new_attempt(task),
        progress="Queued for a follow-up", error=None, summary=None,
        baseline=None,  # retaken: the tests generated so far become regression tests
    )  # fmt: skip
    if not moved:
        raise NotNow(f"task {task_id} is {task.status}; follow-ups need it finished")
    return _queued(db, executor, task_id)


def requeue(db: DB, task: Task, *, why: str) -> bool:
    """A task a stopped or dead process left active goes back to the queue; its next run
    resumes the conversation. False when it moved meanwhile (e.g. it finished)."""
    moved = tasks.transition(
        db, task_id=task.id, to=TaskStatus.PENDING, only_from=ACTIVE, note=why,
        queued_for=QueuedFor.RESUME, resumes=task.resumes + 1,
    )  # fmt: skip
    if moved:  # the agent that waited is gone; the resumed one may ask again
        approvals.expire_pending(db, task_id=task.id, why=f"the task was requeued ({why})")
    return moved


def _new_attempt(task: Task) -> dict[str, Any]:
    # The turn and intervention budgets are per attempt.
    return {"attempt": task.attempt + 1, "completed_at": None, "iterations": 0, "pauses": 0}


def _queued(db: DB, executor: Executor | None, task_id: str) -> Task:
    # Read before the executor hears of it: the answer shows the task as queued, not as
    # whatever a fast worker has made of it meanwhile.
    task = get(db, task_id)
    if executor is not None:
        executor.submit(task_id)
    return task
