"""What a person does with a task's workspace once the agent has worked in it: read the
diff (also while it runs), merge the branch of a completed task, remove the workspace.

Blocking (git, file removal): call from a thread. Each reads the task in a short session
of its own, so no database connection waits on git.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.domain import lifecycle, workspace
from claudeserver.domain.lifecycle import NotNow
from claudeserver.domain.workspace import FileStat, MergeResult, Workspace
from claudeserver.persistence import tasks
from claudeserver.persistence.models import Task, utcnow
from claudeserver.vocabulary import TaskStatus


class WorkspaceGone(Exception):
    """The task's workspace was removed (by a person or WORKSPACE_RETENTION_HOURS)."""


@dataclass(frozen=True)
class TaskWorkspace:
    workspace: Workspace
    project: Path
    status: TaskStatus


def workspace_of(factory: sessionmaker[DB], task_id: str) -> TaskWorkspace:
    """The task's workspace; TaskNotFound, NotNow before it has one, WorkspaceGone after."""
    with factory() as db:
        task = lifecycle.get(db, task_id)
        return TaskWorkspace(
            present(task), Path(task.session.project_path), TaskStatus(task.status)
        )


def present(task: Task) -> Workspace:
    """The workspace of a task read already; NotNow before it has one, WorkspaceGone after."""
    if task.workspace is None:
        raise NotNow(f"task {task.id} has no workspace yet (it is {task.status})")
    if task.workspace_removed_at is not None:
        raise WorkspaceGone(f"the workspace of task {task.id} was removed")
    return Workspace.from_json(task.workspace)


def diff(factory: sessionmaker[DB], task_id: str) -> str:
    return workspace.diff(workspace_of(factory, task_id).workspace)


def diff_stat(factory: sessionmaker[DB], task_id: str) -> list[FileStat]:
    return workspace.diff_stat(workspace_of(factory, task_id).workspace)


def merge(
    factory: sessionmaker[DB], task_id: str, *, author_name: str, author_email: str
) -> tuple[MergeResult, str]:
    """Merge a completed task's branch into its base branch; the result and that branch.

    Raises MergeConflict (nothing changed) or WorkspaceError besides workspace_of's.
    """
    found = workspace_of(factory, task_id)
    if found.status is not TaskStatus.COMPLETED:
        raise NotNow(f"task {task_id} is {found.status.value}; only completed tasks merge")
    base_branch = found.workspace.base_branch
    if found.workspace.kind != "worktree" or not base_branch:
        raise NotNow("this task changed the project in place: nothing to merge")
    result = workspace.merge(
        found.project, found.workspace, author_name=author_name, author_email=author_email
    )
    return result, base_branch


def remove(factory: sessionmaker[DB], task_id: str, *, delete_branch: bool) -> None:
    """Remove a finished task's workspace (its branch too if asked) and record when."""
    found = workspace_of(factory, task_id)
    if not found.status.is_terminal:
        raise NotNow(f"task {task_id} is {found.status.value}; cancel it first")
    workspace.remove(found.project, found.workspace, delete_branch=delete_branch)
    with factory() as db:
        tasks.update_task(db, task_id=task_id, workspace_removed_at=utcnow())
