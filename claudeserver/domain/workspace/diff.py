"""What a task changed, against the point it started from, while running or after."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from claudeserver.domain.workspace import snapshot
from claudeserver.domain.workspace.errors import WorkspaceError
from claudeserver.domain.workspace.model import FileStat, Workspace
from claudeserver.domain.workspace.untrusted import WorktreeGit
from claudeserver.domain.workspace.worktree import require

DIFF_OPTIONS = ("--no-renames", "--no-ext-diff", "--no-textconv", "--no-color")


def diff(ws: Workspace) -> str:
    """A unified diff including uncommitted and untracked (not ignored) files."""
    if ws.kind == "snapshot":
        return snapshot.diff_text(ws)
    return _worktree_diff(ws, [])


def diff_stat(ws: Workspace) -> list[FileStat]:
    """Per file lines added and removed; None for both when the file is binary."""
    if ws.kind == "snapshot":
        return snapshot.diff_stat(ws)
    stats: list[FileStat] = []
    for record in _worktree_diff(ws, ["--numstat", "-z"]).split("\0"):
        if not record:
            continue
        added, removed, path = record.split("\t", 2)
        stats.append(FileStat(path, _count(added), _count(removed)))
    return stats


def _worktree_diff(ws: Workspace, options: list[str]) -> str:
    git = WorktreeGit.open(require(ws))
    if ws.base_commit is None:
        raise WorkspaceError(f"workspace {git.top} has no base commit")
    index = git.entry / "index"
    # Untracked files only show in a diff once they are in an index. Adding them to the
    # worktree's own index would change what the running agent sees in `git status`, so
    # they go into a copy; copying keeps the stat cache, so only changed files are hashed.
    with tempfile.TemporaryDirectory(prefix="claudeserver-diff-") as tmp:
        scratch = Path(tmp)
        env = {"GIT_INDEX_FILE": str(scratch / "index")}
        if index.is_file():
            shutil.copyfile(index, env["GIT_INDEX_FILE"])
        git.run(["add", "--all"], env=env, scratch=scratch)
        args = ["diff", "--cached", *DIFF_OPTIONS, *options, ws.base_commit, "--"]
        return git.run(args, env=env, confined=False).stdout


def _count(text: str) -> int | None:
    return None if text == "-" else int(text)
