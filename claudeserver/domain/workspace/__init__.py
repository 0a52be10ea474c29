"""Per-task workspaces: a git worktree on its own branch, or a snapshot of a plain folder.

Synchronous and blocking (git subprocesses, file copies): call from a thread.
"""

from claudeserver.domain.workspace.cleanup import remove, remove_expired
from claudeserver.domain.workspace.diff import diff, diff_stat
from claudeserver.domain.workspace.errors import MergeConflict, WorkspaceError
from claudeserver.domain.workspace.files import read_text
from claudeserver.domain.workspace.git import branch_exists, branches, current_branch, is_git_repo
from claudeserver.domain.workspace.merge import merge
from claudeserver.domain.workspace.model import FileStat, MergeResult, Workspace
from claudeserver.domain.workspace.remote import default_branch, push_branch, sync_clone
from claudeserver.domain.workspace.snapshot import create_snapshot
from claudeserver.domain.workspace.worktree import (
    commit_all,
    commit_message,
    create_worktree,
    require,
)

__all__ = [
    "FileStat",
    "MergeConflict",
    "MergeResult",
    "Workspace",
    "WorkspaceError",
    "branch_exists",
    "branches",
    "commit_all",
    "commit_message",
    "create_snapshot",
    "create_worktree",
    "current_branch",
    "default_branch",
    "diff",
    "diff_stat",
    "is_git_repo",
    "merge",
    "push_branch",
    "read_text",
    "remove",
    "remove_expired",
    "require",
    "sync_clone",
]
