"""Deleting finished tasks and whole sessions: workspaces first, then every row about them.

Blocking (git, file removal): call from a thread. What stands in the way is raised as the
lifecycle's exceptions: TaskNotFound or SessionNotFound, and NotNow for a task that has not
ended or a workspace that could not be removed (then nothing of that task is deleted).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.domain import lifecycle
from claudeserver.domain.lifecycle import NotNow, SessionNotFound
from claudeserver.domain.workspace import Workspace, WorkspaceError, remove
from claudeserver.persistence import sessions, tasks
from claudeserver.vocabulary import TaskStatus


def delete_task(factory: sessionmaker[DB], task_id: str, *, delete_branch: bool = False) -> None:
    """Delete a finished task; its branch stays unless `delete_branch`."""
    try:
        _delete_task(factory, task_id, delete_branch=delete_branch)
    except WorkspaceError as exc:
        raise NotNow(f"its workspace could not be removed: {exc}") from None


def delete_session(factory: sessionmaker[DB], session_id: str) -> None:
    """Delete a session and all its tasks (branches stay); nothing when one has not ended."""
    with factory() as s:
        if sessions.get_session(s, session_id=session_id) is None:
            raise SessionNotFound(session_id)
        found = _tasks_of(s, session_id)
    _require_ended(session_id, {i: st for i, st in found.items() if not _ended(st)})
    for task_id in found:
        try:
            _delete_task(factory, task_id)
        except WorkspaceError as exc:
            raise NotNow(f"a task's workspace could not be removed: {exc}") from None
    with factory() as s:
        if not sessions.delete_session(s, session_id=session_id):  # a task was added meanwhile
            _require_ended(session_id, _tasks_of(s, session_id))


def _delete_task(factory: sessionmaker[DB], task_id: str, *, delete_branch: bool = False) -> None:
    with factory() as s:
        task = lifecycle.get(s, task_id)
        if not _ended(task.status):
            raise NotNow(f"task {task_id} is {task.status}; cancel it first")
        project = Path(task.session.project_path)
        workspace = Workspace.from_json(task.workspace) if task.workspace else None
    if workspace is not None:
        remove(project, workspace, delete_branch=delete_branch)  # also when already removed
    with factory() as s:
        if not tasks.delete_task(s, task_id=task_id):
            status = tasks.status_of(s, task_id=task_id)[0] or "gone"
            raise NotNow(f"task {task_id} is {status}; cancel it first")


def _require_ended(session_id: str, unfinished: dict[str, str]) -> None:
    if unfinished:
        listed = ", ".join(f"{task_id} ({status})" for task_id, status in unfinished.items())
        raise NotNow(f"session {session_id} has tasks that are unfinished: {listed}; cancel first")


def _ended(status: str) -> bool:
    return TaskStatus(status).is_terminal


def _tasks_of(s: DB, session_id: str) -> dict[str, str]:
    return {t.id: t.status for t in tasks.list_session_tasks(s, session_id=session_id)}
