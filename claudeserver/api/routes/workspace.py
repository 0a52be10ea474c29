from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from claudeserver.api.errors import ErrorOut, responses
from claudeserver.api.schemas import DiffStatOut, FileStatOut, MergeOut
from claudeserver.domain.workspace import (
    MergeConflict,
    Workspace,
    WorkspaceError,
    diff,
    diff_stat,
    merge,
    remove,
)
from claudeserver.persistence import tasks
from claudeserver.persistence.models import utcnow
from claudeserver.vocabulary import TaskStatus

router = APIRouter(
    prefix="/api/v1/tasks", tags=["workspaces"], responses=responses(400, 401, 404, 409, 410, 413)
)


def _load(request: Request, task_id: str) -> tuple[Workspace, Path, str]:
    """The task's workspace, its project and status; 404/409/410 when there is none."""
    with request.app.state.sessionmaker() as db:
        task = tasks.get_task(db, task_id=task_id)
        if task is None:
            raise HTTPException(404, f"task {task_id} not found")
        if task.workspace is None:
            raise HTTPException(409, f"task {task_id} has no workspace yet (it is {task.status})")
        if task.workspace_removed_at is not None:
            raise HTTPException(410, f"the workspace of task {task_id} was removed")
        return Workspace.from_json(task.workspace), Path(task.session.project_path), task.status


@router.get(
    "/{task_id}/diff",
    response_model=None,
    responses={200: {"content": {"text/x-diff": {}}, "model": DiffStatOut}},
)
async def task_diff(
    task_id: str, request: Request, format: Literal["patch", "stat"] = Query("patch")
) -> Response | DiffStatOut:
    """The task's changes against where it started; works while it runs."""
    workspace, _, _ = _load(request, task_id)
    try:
        if format == "stat":
            stats = await asyncio.to_thread(diff_stat, workspace)
            return DiffStatOut(files=[FileStatOut(**vars(s)) for s in stats])
        return PlainTextResponse(await asyncio.to_thread(diff, workspace), media_type="text/x-diff")
    except WorkspaceError as exc:
        raise HTTPException(409, str(exc)) from None


@router.post("/{task_id}/merge", response_model=MergeOut)
async def merge_task(task_id: str, request: Request) -> MergeOut | JSONResponse:
    """Merge a completed task's branch into its base branch (fast-forward when possible)."""
    workspace, project, status = _load(request, task_id)
    if status != TaskStatus.COMPLETED.value:
        raise HTTPException(409, f"task {task_id} is {status}; only completed tasks merge")
    if workspace.kind != "worktree" or not workspace.base_branch:
        raise HTTPException(409, "this task changed the project in place: nothing to merge")
    settings = request.app.state.settings
    try:
        result = await asyncio.to_thread(
            merge, project, workspace,
            author_name=settings.git_author_name, author_email=settings.git_author_email,
        )  # fmt: skip
    except MergeConflict as exc:
        conflict = ErrorOut(detail=str(exc), files=exc.files)
        return JSONResponse(status_code=409, content=conflict.model_dump())
    except WorkspaceError as exc:
        raise HTTPException(409, str(exc)) from None
    return MergeOut(
        fast_forward=result.fast_forward,
        up_to_date=result.up_to_date,
        commit=result.commit,
        base_branch=workspace.base_branch,
    )


@router.delete("/{task_id}/workspace", status_code=204)
async def delete_workspace(
    task_id: str,
    request: Request,
    branch: bool = Query(False, description="also delete the task's branch"),
) -> Response:
    workspace, project, status = _load(request, task_id)
    if not TaskStatus(status).is_terminal:
        raise HTTPException(409, f"task {task_id} is {status}; cancel it first")
    try:
        await asyncio.to_thread(remove, project, workspace, delete_branch=branch)
    except WorkspaceError as exc:
        raise HTTPException(409, str(exc)) from None
    with request.app.state.sessionmaker() as db:
        tasks.update_task(db, task_id=task_id, workspace_removed_at=utcnow())
    return Response(status_code=204)
