"""The task's workspace: made before the agent starts (or found again), committed on the
task's branch and pushed when the work is done."""

from __future__ import annotations

import asyncio

from claudeserver.domain.taskrun.context import TaskContext
from claudeserver.domain.taskrun.errors import TaskFailure
from claudeserver.domain.taskrun.journal import Journal
from claudeserver.domain.workspace import (
    Workspace,
    WorkspaceError,
    commit_all,
    commit_message,
    create_snapshot,
    create_worktree,
    push_branch,
    require,
    sync_clone,
)
from claudeserver.settings import Settings
from claudeserver.vocabulary import Kind, Role


async def open_workspace(context: TaskContext, settings: Settings, journal: Journal) -> Workspace:
    """The task's own worktree (or a snapshot to diff against), reused on resume."""
    try:
        if context.workspace is not None:
            workspace = Workspace.from_json(context.workspace)
            await asyncio.to_thread(require, workspace)
            return workspace
        root = settings.workspaces_dir
        if context.repo_url:  # start from the repository's latest base branch
            await asyncio.to_thread(sync_clone, context.repo_url, root)
        if context.isolation == "worktree" and context.base_branch:
            workspace = await asyncio.to_thread(
                create_worktree, context.origin, task_id=context.task_id,
                base_branch=context.base_branch, root=root,
            )  # fmt: skip
        else:
            workspace = await asyncio.to_thread(
                create_snapshot, context.origin, task_id=context.task_id, root=root
            )
    except WorkspaceError as exc:
        raise TaskFailure(f"Workspace problem: {exc}") from exc
    with journal.unit() as w:
        w.update(workspace=workspace.to_json())
    return workspace


async def commit_work(
    context: TaskContext, settings: Settings, journal: Journal, workspace: Workspace
) -> None:
    """Completed work is committed on the task's branch; the user's checkout stays as is."""
    if workspace.kind != "worktree":
        return
    try:
        sha = await asyncio.to_thread(
            commit_all, workspace, message=commit_message(context.description),
            author_name=settings.git_author_name, author_email=settings.git_author_email,
        )  # fmt: skip
    except WorkspaceError as exc:
        raise TaskFailure(f"Could not commit the task's changes: {exc}") from exc
    if sha:
        journal.record(Role.SYSTEM, Kind.COMMIT, f"{workspace.branch} {sha}", {"commit": sha})
    if context.repo_url and workspace.branch:
        try:
            await asyncio.to_thread(push_branch, context.origin, workspace.branch)
        except WorkspaceError as exc:
            raise TaskFailure(f"Could not push {workspace.branch}: {exc}") from exc
        journal.record(
            Role.SYSTEM, Kind.PUSH, f"pushed {workspace.branch} to {context.repo_url}",
            {"branch": workspace.branch, "repo_url": context.repo_url},
        )  # fmt: skip
