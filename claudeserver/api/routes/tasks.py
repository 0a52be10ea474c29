from __future__ import annotations

from fastapi import APIRouter, HTTPException

from claudeserver.api.deps import SessionDep, WorkerDep
from claudeserver.api.presenters import task_detail, task_out, task_status
from claudeserver.api.schemas import TaskCreate, TaskDetail, TaskOut, TaskStatusOut
from claudeserver.persistence import repository as repo
from claudeserver.persistence.models import Task

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


@router.post("", status_code=201, response_model=TaskOut)
def create_task(body: TaskCreate, db: SessionDep, worker: WorkerDep) -> TaskOut:
    if repo.get_session(db, session_id=body.session_id) is None:
        raise HTTPException(404, f"session {body.session_id} not found; create it first")
    task = repo.create_task(db, session_id=body.session_id, description=body.description)
    if worker is not None:
        worker.notify()
    return task_out(db, task)


@router.get("/{task_id}/status", response_model=TaskStatusOut)
def get_task_status(task_id: str, db: SessionDep) -> TaskStatusOut:
    return task_status(db, _task_or_404(db, task_id))


@router.get("/{task_id}", response_model=TaskDetail)
def get_task(task_id: str, db: SessionDep) -> TaskDetail:
    return task_detail(db, _task_or_404(db, task_id, with_details=True))


def _task_or_404(db: SessionDep, task_id: str, *, with_details: bool = False) -> Task:
    task = repo.get_task(db, task_id=task_id, with_details=with_details)
    if task is None:
        raise HTTPException(404, f"task {task_id} not found")
    return task
