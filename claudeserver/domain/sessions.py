"""Sessions: a new one's project (a local directory the server may use, or the server's
clone of a repo_url) and how its tasks are isolated, decided from the project and the
request; later changes to what its tasks inherit."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy.orm import Session as DB

from claudeserver.domain.lifecycle import SessionNotFound
from claudeserver.domain.workspace import (
    WorkspaceError,
    branch_exists,
    branches,
    current_branch,
    default_branch,
    is_git_repo,
    sync_clone,
)
from claudeserver.persistence.models import Session
from claudeserver.persistence.sessions import create_session, update_session
from claudeserver.redact import redact
from claudeserver.settings import Settings

log = logging.getLogger(__name__)


class SessionError(ValueError):
    """A request field that cannot work for this project; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class OutsideRoots(PermissionError):
    """The project is outside ALLOWED_PROJECT_ROOTS."""


def create(
    db: DB,
    *,
    settings: Settings,
    project_path: str | None,
    repo_url: str | None,
    isolation: str | None,
    base_branch: str | None,
    **options: Any,
) -> Session:
    """A session on `project_path` or on the server's clone of `repo_url` (exactly one).

    Raises OutsideRoots for a project the server may not use, SessionError for a field
    that cannot work for this project.
    """
    if repo_url is not None:
        project, remote_default = _cloned(repo_url, settings)
        base_branch, isolation = base_branch or remote_default, "worktree"
    elif project_path is not None:
        project = _local_project(project_path, roots=settings.project_roots)
    else:
        raise SessionError("project_path", "give exactly one of project_path and repo_url")
    plan = _plan_isolation(project, mode=isolation, base_branch=base_branch)
    return create_session(
        db,
        project_path=str(project),
        repo_url=repo_url,
        isolation=plan.mode,
        base_branch=plan.base_branch,
        **options,
    )


def _cloned(repo_url: str, settings: Settings) -> tuple[Path, str | None]:
    """The server's clone of `repo_url`; a local one only from within ALLOWED_PROJECT_ROOTS."""
    local = _local_path(repo_url)
    if local is not None:
        try:
            _local_project(local, roots=settings.project_roots)
        except OutsideRoots:
            allowed = ":".join(str(r) for r in settings.project_roots)
            raise OutsideRoots(
                f"repo_url {repo_url} is a local path outside ALLOWED_PROJECT_ROOTS={allowed}"
            ) from None
    try:
        clone = sync_clone(repo_url, settings.workspaces_dir)
    except WorkspaceError as exc:
        # git's own words tell apart "no such host", "connection refused" and "timed out":
        # echoed, they would map the server's network for whoever sends URLs.
        log.warning("could not clone a session's repo_url: %s", redact(str(exc)))
        raise SessionError(
            "repo_url",
            f"could not clone {repo_url}: no repository could be read there (it does not "
            "exist, the server cannot reach it, or it needs credentials); the server log "
            "has git's message",
        ) from None
    return clone, default_branch(clone)


def _local_path(repo_url: str) -> str | None:
    """The directory a local repo_url names: an absolute path, or a file:// URL's path."""
    if repo_url.startswith("file://"):
        path = unquote(repo_url.removeprefix("file://"))  # git decodes %-escapes in URLs
        if not path.startswith("/"):
            raise SessionError("repo_url", "a file:// URL needs an absolute path: file:///path")
        return path
    return repo_url if repo_url.startswith("/") else None


def _local_project(project_path: str, *, roots: list[Path]) -> Path:
    """The project directory, if the server's configuration lets sessions point there."""
    real = Path(project_path).resolve()  # `..` and symlinks cannot escape the roots
    if roots and not any(real.is_relative_to(root.resolve()) for root in roots):
        allowed = ":".join(str(r) for r in roots)
        raise OutsideRoots(
            f"project_path {project_path} (really {real}) is outside "
            f"ALLOWED_PROJECT_ROOTS={allowed}"
        )
    return Path(project_path)


@dataclass(frozen=True)
class Isolation:
    mode: str  # "worktree" | "none"
    base_branch: str | None


def _plan_isolation(project: Path, *, mode: str | None, base_branch: str | None) -> Isolation:
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


def update(db: DB, *, session_id: str, **changes: Any) -> Session:
    """Change what the session's tasks inherit. A task takes its options when it starts
    (or resumes), so one already running keeps what it started with."""
    session = update_session(db, session_id=session_id, **changes)
    if session is None:
        raise SessionNotFound(session_id)
    return session
