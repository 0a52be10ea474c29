from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from urllib.parse import unquote

from fastapi import APIRouter, HTTPException, Request, Response

from claudeserver.api.deps import SessionDep, SettingsDep
from claudeserver.api.errors import invalid, responses
from claudeserver.api.presenters import task_outs
from claudeserver.api.schemas import SessionCreate, SessionOut, TaskOut
from claudeserver.domain import deletion
from claudeserver.domain.sessions import (
    OutsideRoots,
    SessionError,
    cloned_project,
    local_project,
    plan_isolation,
)
from claudeserver.domain.workspace import WorkspaceError
from claudeserver.persistence import repository as repo
from claudeserver.redact import redact
from claudeserver.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/v1/sessions", tags=["sessions"], responses=responses(400, 401, 404, 413)
)


@router.post("", status_code=201, response_model=SessionOut, responses=responses(403))
def create_session(body: SessionCreate, db: SessionDep, settings: SettingsDep) -> SessionOut:
    base_branch, isolation = body.base_branch, body.isolation
    try:
        if body.repo_url is not None:
            project, remote_default = _cloned(body.repo_url, settings)
            base_branch, isolation = base_branch or remote_default, "worktree"
        else:
            project = local_project(str(body.project_path), roots=settings.project_roots)
        plan = plan_isolation(project, mode=isolation, base_branch=base_branch)
    except OutsideRoots as exc:
        raise HTTPException(403, str(exc)) from None
    except SessionError as exc:
        raise invalid("body", exc.field, str(exc)) from None
    session = repo.create_session(
        db,
        project_path=str(project),
        repo_url=body.repo_url,
        isolation=plan.mode,
        base_branch=plan.base_branch,
        test_runner=body.test_runner,
        test_command=body.test_command,
        model=body.model,
        fallback_model=body.fallback_model,
        webhook_url=body.webhook_url,
        webhook_format=body.webhook_format,
        policy=body.policy,
        trust_project_settings=body.trust_project_settings,
        review=body.review,
        baseline_failures=body.baseline_failures,
        test_network=body.test_network,
        test_services=body.test_services,
        max_budget_usd=body.max_budget_usd,
    )
    return SessionOut.model_validate(session)


@router.get("", response_model=list[SessionOut])
def list_sessions(db: SessionDep) -> list[SessionOut]:
    return [SessionOut.model_validate(s) for s in repo.list_sessions(db)]


@router.get("/{session_id}", response_model=SessionOut)
def get_session(session_id: str, db: SessionDep) -> SessionOut:
    return SessionOut.model_validate(_session_or_404(db, session_id))


@router.get("/{session_id}/tasks", response_model=list[TaskOut])
def session_tasks(session_id: str, db: SessionDep) -> list[TaskOut]:
    _session_or_404(db, session_id)
    return task_outs(db, repo.list_session_tasks(db, session_id=session_id))


@router.delete("/{session_id}", status_code=204, responses=responses(409))
async def delete_session(session_id: str, request: Request) -> Response:
    """Delete a session with all its tasks (their workspaces too; branches stay)."""
    factory = request.app.state.sessionmaker
    try:
        found = await asyncio.to_thread(deletion.delete_session, factory, session_id)
    except deletion.Unfinished as exc:
        raise HTTPException(409, f"session {session_id} has tasks that are {exc}") from None
    except WorkspaceError as exc:
        raise HTTPException(409, f"a task's workspace could not be removed: {exc}") from None
    if not found:
        raise HTTPException(404, f"session {session_id} not found")
    return Response(status_code=204)


def _cloned(repo_url: str, settings: Settings) -> tuple[Path, str | None]:
    """The server's clone of `repo_url`; a local one only from within ALLOWED_PROJECT_ROOTS."""
    local = _local_path(repo_url)
    if local is not None:
        try:
            local_project(local, roots=settings.project_roots)
        except OutsideRoots:
            allowed = ":".join(str(r) for r in settings.project_roots)
            raise HTTPException(
                403, f"repo_url {repo_url} is a local path outside ALLOWED_PROJECT_ROOTS={allowed}"
            ) from None
    try:
        return cloned_project(repo_url, workspaces_dir=settings.workspaces_dir)
    except SessionError as exc:
        # git's own words tell apart "no such host", "connection refused" and "timed out":
        # echoed, they would map the server's network for whoever sends URLs.
        log.warning("could not clone a session's repo_url: %s", redact(str(exc)))
        raise invalid(
            "body",
            "repo_url",
            f"could not clone {repo_url}: no repository could be read there (it does not "
            "exist, the server cannot reach it, or it needs credentials); the server log "
            "has git's message",
        ) from None


def _local_path(repo_url: str) -> str | None:
    """The directory a local repo_url names: an absolute path, or a file:// URL's path."""
    if repo_url.startswith("file://"):
        path = unquote(repo_url.removeprefix("file://"))  # git decodes %-escapes in URLs
        if not path.startswith("/"):
            raise invalid("body", "repo_url", "a file:// URL needs an absolute path: file:///path")
        return path
    return repo_url if repo_url.startswith("/") else None


def _session_or_404(db: SessionDep, session_id: str) -> object:
    session = repo.get_session(db, session_id=session_id)
    if session is None:
        raise HTTPException(404, f"session {session_id} not found")
    return session
