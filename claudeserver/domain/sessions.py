"""How a new session isolates its tasks, decided from the project and the request."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from claudeserver.domain.workspace import (
    WorkspaceError,
    branch_exists,
    branches,
    current_branch,
    default_branch,
    is_git_repo,
    sync_clone,
)


class SessionError(ValueError):
    """A request field that cannot work for this project; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class OutsideRoots(PermissionError):
    """The project is outside ALLOWED_PROJECT_ROOTS."""


def local_project(project_path: str, *, roots: list[Path]) -> Path:
    """The project directory, if the server's configuration lets sessions point there."""
    real = Path(project_path).resolve()  # `..` and symlinks cannot escape the roots
    if roots and not any(real.is_relative_to(root.resolve()) for root in roots):
        allowed = ":".join(str(r) for r in roots)
        raise OutsideRoots(
            f"project_path {project_path} (really {real}) is outside "
            f"ALLOWED_PROJECT_ROOTS={allowed}"
        )
    return Path(project_path)


def cloned_project(repo_url: str, *, workspaces_dir: Path) -> tuple[Path, str | None]:
    """The server's up-to-date clone of `repo_url`, and the remote's default branch."""
    try:
        clone = sync_clone(repo_url, workspaces_dir)
    except WorkspaceError as exc:
        raise SessionError("repo_url", str(exc)) from None
    return clone, default_branch(clone)


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
