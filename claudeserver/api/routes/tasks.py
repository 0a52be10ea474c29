from __future__ import annotations

import asyncio
import base64
from datetime import datetime

from fastapi import APIRouter, Query, Request, Response

from claudeserver.api.deps import DeleteBranch, ExecutorDep, SessionDep, SettingsDep
from claudeserver.api.errors import invalid, responses
from claudeserver.api.presenters import task_detail, task_out, task_outs, task_status
from claudeserver.api.schemas import (
    InteractionOut,
    InteractionPage,
    MessageCreate,
    TaskCreate,
    TaskCreated,
    TaskDetail,
    TaskOut,
    TaskPage,
    TaskStatusOut,
)
from claudeserver.domain import deletion, lifecycle
from claudeserver.persistence import interactions, tasks
from claudeserver.persistence.models import Task
from claudeserver.vocabulary import TaskStatus

router = APIRouter(
    prefix="/api/v1/tasks", tags=["tasks"], responses=responses(400, 401, 404, 409, 413)
)

CANCEL_REASON = "cancelled by the user"


@router.post("", status_code=201, response_model=TaskCreated)
def create_task(
    body: TaskCreate, db: SessionDep, executor: ExecutorDep, settings: SettingsDep
) -> TaskCreated:
    task = lifecycle.create(db, executor, **body.model_dump())
    warnings = lifecycle.obstacles(db, settings)
    return TaskCreated(**task_out(db, task).model_dump(), warnings=warnings)


@router.get("", response_model=TaskPage)
def list_tasks(
    db: SessionDep,
    status: TaskStatus | None = None,
    session_id: str | None = Query(None, max_length=64),
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = Query(None, max_length=200, description="next_cursor of the last page"),
) -> TaskPage:
    before = _decode_cursor(cursor)
    last_event_id = interactions.last_event_id(db)
    rows = tasks.list_tasks(db, status=status, session_id=session_id, limit=limit, before=before)
    next_cursor = _encode_cursor(rows[-1]) if len(rows) == limit else None
    return TaskPage(items=task_outs(db, rows), next_cursor=next_cursor, last_event_id=last_event_id)


@router.get("/{task_id}/status", response_model=TaskStatusOut)
def get_task_status(task_id: str, db: SessionDep) -> TaskStatusOut:
    return task_status(db, _task_or_404(db, task_id))


@router.get("/{task_id}", response_model=TaskDetail)
def get_task(task_id: str, db: SessionDep) -> TaskDetail:
    return task_detail(db, _task_or_404(db, task_id, with_details=True))


@router.delete("/{task_id}", status_code=204)
async def delete_task(
    task_id: str,
    request: Request,
    branch: DeleteBranch = False,
) -> Response:
    """Delete a finished task: its workspace, then its events, tests and transcript."""
    factory = request.app.state.sessionmaker
    await asyncio.to_thread(deletion.delete_task, factory, task_id, delete_branch=branch)
    return Response(status_code=204)


@router.get("/{task_id}/interactions", response_model=InteractionPage)
def list_interactions(
    task_id: str,
    db: SessionDep,
    after: int = Query(0, ge=0, description="sequence number to start after"),
    limit: int = Query(200, ge=1, le=1000),
) -> InteractionPage:
    _task_or_404(db, task_id)
    rows = interactions.interactions_after(db, task_id=task_id, after=after, limit=limit)
    return InteractionPage(
        items=[InteractionOut.model_validate(r) for r in rows],
        next_after=rows[-1].sequence if len(rows) == limit else None,
    )


@router.post("/{task_id}/cancel", response_model=TaskStatusOut)
async def cancel_task(task_id: str, request: Request) -> TaskStatusOut:
    """Ends a pending or active task as `cancelled`; answers once it has (at most ~5 s)."""
    factory = request.app.state.sessionmaker
    with factory() as db:
        lifecycle.cancel(db, request.app.state.executor, task_id=task_id, reason=CANCEL_REASON)
    task = await lifecycle.wait_until_ended(factory, task_id)
    with factory() as db:
        return task_status(db, task)


@router.post("/{task_id}/messages", status_code=202, response_model=InteractionOut)
def send_message(task_id: str, body: MessageCreate, db: SessionDep) -> InteractionOut:
    row = lifecycle.add_message(db, task_id=task_id, content=body.content)
    return InteractionOut.model_validate(row)


@router.post("/{task_id}/retry", response_model=TaskOut)
def retry_task(task_id: str, db: SessionDep, executor: ExecutorDep) -> TaskOut:
    return task_out(db, lifecycle.retry(db, executor, task_id=task_id))


@router.post("/{task_id}/follow-up", response_model=TaskOut)
def follow_up_task(
    task_id: str, body: MessageCreate, db: SessionDep, executor: ExecutorDep
) -> TaskOut:
    """A finished task runs again on a new request, in its workspace and Claude conversation."""
    return task_out(db, lifecycle.follow_up(db, executor, task_id=task_id, request=body.content))


def _task_or_404(db: SessionDep, task_id: str, *, with_details: bool = False) -> Task:
    return lifecycle.get(db, task_id, with_details=with_details)


def _encode_cursor(task: Task) -> str:
    return base64.urlsafe_b64encode(f"{task.created_at.isoformat()}|{task.id}".encode()).decode()


def _decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    try:
        created, task_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(created), task_id
    except (ValueError, UnicodeDecodeError):
        raise invalid(
            "query", "cursor", "cursor is not a next_cursor value from this API"
        ) from None
