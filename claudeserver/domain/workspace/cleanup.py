"""Removing workspaces: one when the user is done, or every finished one past an age."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from claudeserver.domain.workspace.errors import WorkspaceError
from claudeserver.domain.workspace.git import branch_exists, run
from claudeserver.domain.workspace.model import Workspace
from claudeserver.domain.workspace.repo_lock import worktree_lock

log = logging.getLogger(__name__)


def remove(repo: Path, ws: Workspace, *, delete_branch: bool = False) -> None:
    """Delete the workspace's directory and its git bookkeeping; optionally its branch.

    Works when the directory or even the repository is already gone.
    """
    if ws.kind == "snapshot":
        if ws.snapshot is not None:
            shutil.rmtree(ws.snapshot, ignore_errors=True)
        return
    worktree = ws.worktree
    if not repo.is_dir():
        if worktree is not None and _is_linked_worktree(worktree):
            shutil.rmtree(worktree, ignore_errors=True)
        return
    with worktree_lock(repo):
        if worktree is not None and worktree.exists():
            try:
                # Twice --force: also when the worktree has changes or is locked.
                run(["worktree", "remove", "--force", "--force", str(worktree)], cwd=repo)
            except WorkspaceError:
                # Not registered any more (pruned elsewhere) — the directory is still ours.
                if not _is_linked_worktree(worktree):
                    raise
                shutil.rmtree(worktree)
        run(["worktree", "prune"], cwd=repo)
        if delete_branch and ws.branch and branch_exists(repo, ws.branch):
            run(["branch", "-D", ws.branch], cwd=repo)


def remove_expired(
    finished: Iterable[tuple[Path, Workspace, datetime]],
    *,
    max_age: timedelta,
    now: datetime,
) -> list[Workspace]:
    """Remove each (repo, workspace, finished_at) older than `max_age`; keeps branches.

    Returns what was removed; a failure is logged and the rest carry on. `now` and the
    finished times must agree on being naive or aware.
    """
    removed: list[Workspace] = []
    for repo, ws, finished_at in finished:
        if now - finished_at < max_age:
            continue
        try:
            remove(repo, ws)
        except WorkspaceError:
            log.warning("could not remove workspace %s", ws.path, exc_info=True)
            continue
        removed.append(ws)
    return removed


def _is_linked_worktree(path: Path) -> bool:
    # A linked worktree has a `.git` file; a main checkout has a `.git` directory. This keeps
    # a wrong stored path from ever deleting a user's own checkout.
    return (path / ".git").is_file()
