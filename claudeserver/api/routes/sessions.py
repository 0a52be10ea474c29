from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException

from claudeserver.api.deps import SessionDep, SettingsDep
from claudeserver.api.errors import invalid, responses
from claudeserver.api.presenters import task_out
from claudeserver.api.schemas import SessionCreate, SessionOut, TaskOut
from claudeserver.domain.sessions import SessionError, plan_isolation
from claudeserver.persistence import repository as repo

router = APIRouter(
    prefix="/api/v1/sessions", tags=["sessions"], responses=responses(400, 401, 404, 413)
)


@router.post("", status_code=201, response_model=SessionOut, responses=responses(403))
def create_session(body: SessionCreate, db: SessionDep, settings: SettingsDep) -> SessionOut:
    roots = settings.project_roots
    real = Path(body.project_path).resolve()
    if roots and not any(real.is_relative_to(root.resolve()) for root in roots):
        allowed = ":".join(str(r) for r in roots)
        raise HTTPException(
            403,
            f"project_path {body.project_path} (really {real}) is outside "
            f"ALLOWED_PROJECT_ROOTS={allowed}",
        )
    try:
        plan = plan_isolation(
            Path(body.project_path), mode=body.isolation, base_branch=body.base_branch
        )
    except SessionError as exc:
        raise invalid("body", exc.field, str(exc)) from None
    session = repo.create_session(
        db,
        project_path=body.project_path,
        isolation=plan.mode,
        base_branch=plan.base_branch,
        test_runner=body.test_runner,
        test_command=body.test_command,
        model=body.model,
        fallback_model=body.fallback_model,
        webhook_url=body.webhook_url,
        policy=body.policy,
        trust_project_settings=body.trust_project_settings,
        review=body.review,
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
    return [task_out(db, t) for t in repo.list_session_tasks(db, session_id=session_id)]


def _session_or_404(db: SessionDep, session_id: str) -> object:
    session = repo.get_session(db, session_id=session_id)
    if session is None:
        raise HTTPException(404, f"session {session_id} not found")
    return session
