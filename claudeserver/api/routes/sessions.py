from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, HTTPException, Request, Response

from claudeserver.api.deps import SessionDep, SettingsDep
from claudeserver.api.errors import invalid, responses
from claudeserver.api.presenters import task_outs
from claudeserver.api.schemas import TaskOut
from claudeserver.api.session_schemas import SessionCreate, SessionOut, SessionUpdate
from claudeserver.domain import deletion, sessions
from claudeserver.persistence import sessions as session_rows
from claudeserver.persistence import tasks

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/v1/sessions", tags=["sessions"], responses=responses(400, 401, 404, 413)
)


@router.post("", status_code=201, response_model=SessionOut, responses=responses(403))
def create_session(body: SessionCreate, db: SessionDep, settings: SettingsDep) -> SessionOut:
    try:
        session = sessions.create(db, settings=settings, **body.model_dump())
    except sessions.OutsideRoots as exc:
        raise HTTPException(403, str(exc)) from None
    except sessions.SessionError as exc:
        raise invalid("body", exc.field, str(exc)) from None
    return SessionOut.model_validate(session)


@router.get("", response_model=list[SessionOut])
def list_sessions(db: SessionDep) -> list[SessionOut]:
    return [SessionOut.model_validate(s) for s in session_rows.list_sessions(db)]


@router.get("/{session_id}", response_model=SessionOut)
def get_session(session_id: str, db: SessionDep) -> SessionOut:
    return SessionOut.model_validate(_session_or_404(db, session_id))


@router.patch("/{session_id}", response_model=SessionOut)
def update_session(session_id: str, body: SessionUpdate, db: SessionDep) -> SessionOut:
    """Change options the session's tasks inherit; tasks that start afterwards use them."""
    changes = body.model_dump(exclude_unset=True)
    return SessionOut.model_validate(sessions.update(db, session_id=session_id, **changes))


@router.get("/{session_id}/tasks", response_model=list[TaskOut])
def session_tasks(session_id: str, db: SessionDep) -> list[TaskOut]:
    _session_or_404(db, session_id)
    return task_outs(db, tasks.list_session_tasks(db, session_id=session_id))


@router.delete("/{session_id}", status_code=204, responses=responses(409))
async def delete_session(session_id: str, request: Request) -> Response:
    """Delete a session with all its tasks (their workspaces too; branches stay)."""
    await asyncio.to_thread(deletion.delete_session, request.app.state.sessionmaker, session_id)
    return Response(status_code=204)


def _session_or_404(db: SessionDep, session_id: str) -> object:
    session = session_rows.get_session(db, session_id=session_id)
    if session is None:
        raise HTTPException(404, f"session {session_id} not found")
    return session
