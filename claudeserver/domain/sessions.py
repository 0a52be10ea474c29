"""How a new session isolates its tasks, decided from the project and the request."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from claudeserver.domain.workspace import branch_exists, branches, current_branch, is_git_repo


class SessionError(ValueError):
    """A request field that cannot work for this project; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Isolation:
    mode: str  # "worktree" | "none"
    base_branch: str | None


def plan_isolation(project: Path, *, mode: str | None, base_branch: str | None) -> Isolation:
    """Worktrees by default in git repositories; a plain folder runs tasks in place."""
    is_repo = is_git_repo(project)
    mode = mode or ("worktree" if is_repo else "none")
    if mode == "none":
        return Isolation("none", base_branch)
    if not is_repo:
        raise SessionError("isolation", f'{project} is not a git repository; use isolation "none"')
    branch = base_branch or current_branch(project)
    if branch is None:
        raise SessionError(
            "base_branch",
            f"{project} has a detached HEAD; say which branch tasks start from "
            f"(branches: {', '.join(branches(project)) or 'none'})",
        )
    if not branch_exists(project, branch):
        existing = ", ".join(branches(project)) or "none yet: make a first commit"
        raise SessionError(
            "base_branch", f"base branch {branch!r} does not exist; branches: {existing}"
        )
    return Isolation("worktree", branch)
