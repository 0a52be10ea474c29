"""Deleting finished tasks and whole sessions: workspaces first, then every row about them.

Blocking (git, file removal): call from a thread.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.domain.workspace import Workspace, remove
from claudeserver.persistence import sessions, tasks
from claudeserver.vocabulary import TaskStatus


class Unfinished(Exception):
    """Tasks that are still pending or running: they must be cancelled first."""

    def __init__(self, tasks: dict[str, str]) -> None:
        self.tasks = tasks  # id -> status
        listed = ", ".join(f"{task_id} ({status})" for task_id, status in tasks.items())
        super().__init__(f"unfinished: {listed}; cancel first")


def delete_task(db: sessionmaker[DB], task_id: str, *, delete_branch: bool = False) -> bool:
    """False when there is no such task. The branch stays unless `delete_branch`.

    Raises Unfinished for a task that has not ended, WorkspaceError when its workspace
    cannot be removed (then nothing is deleted).
    """
    with db() as s:
        task = tasks.get_task(s, task_id=task_id)
        if task is None:
            return False
        if not TaskStatus(task.status).is_terminal:
            raise Unfinished({task_id: task.status})
        project = Path(task.session.project_path)
        workspace = Workspace.from_json(task.workspace) if task.workspace else None
    if workspace is not None:
        remove(project, workspace, delete_branch=delete_branch)  # also when already removed
    with db() as s:
        if not tasks.delete_task(s, task_id=task_id):
            raise Unfinished({task_id: tasks.status_of(s, task_id=task_id)[0] or "gone"})
    return True


def delete_session(db: sessionmaker[DB], session_id: str) -> bool:
    """Delete a session and all its tasks (branches stay); False when there is none.

    Raises Unfinished, deleting nothing, when one of its tasks has not ended.
    """
    with db() as s:
        if sessions.get_session(s, session_id=session_id) is None:
            return False
        tasks = _tasks_of(s, session_id)
    unfinished = {i: st for i, st in tasks.items() if not TaskStatus(st).is_terminal}
    if unfinished:
        raise Unfinished(unfinished)
    for task_id in tasks:
        delete_task(db, task_id)
    with db() as s:
        if not sessions.delete_session(s, session_id=session_id):  # a task was added meanwhile
            raise Unfinished(_tasks_of(s, session_id))
    return True


def _tasks_of(s: DB, session_id: str) -> dict[str, str]:
    return {t.id: t.status for t in tasks.list_session_tasks(s, session_id=session_id)}
