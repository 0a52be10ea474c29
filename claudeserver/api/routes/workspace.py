from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from claudeserver.api.deps import DeleteBranch
from claudeserver.api.errors import ErrorOut, responses
from claudeserver.api.workspace_schemas import DiffStatOut, FileStatOut, MergeOut
from claudeserver.domain import task_workspace
from claudeserver.domain.workspace import MergeConflict, WorkspaceError

router = APIRouter(
    prefix="/api/v1/tasks", tags=["workspaces"], responses=responses(400, 401, 404, 409, 410, 413)
)


@router.get(
    "/{task_id}/diff",
    response_model=None,
    responses={200: {"content": {"text/x-diff": {}}, "model": DiffStatOut}},
)
async def task_diff(
    task_id: str, request: Request, format: Literal["patch", "stat"] = Query("patch")
) -> Response | DiffStatOut:
    """The task's changes against where it started; works while it runs."""
    factory = request.app.state.sessionmaker
    try:
        if format == "stat":
            stats = await asyncio.to_thread(task_workspace.diff_stat, factory, task_id)
            return DiffStatOut(files=[FileStatOut(**vars(s)) for s in stats])
        patch = await asyncio.to_thread(task_workspace.diff, factory, task_id)
    except WorkspaceError as exc:
        raise HTTPException(409, str(exc)) from None
    return PlainTextResponse(patch, media_type="text/x-diff")


@router.post("/{task_id}/merge", response_model=MergeOut)
async def merge_task(task_id: str, request: Request) -> MergeOut | JSONResponse:
    """Merge a completed task's branch into its base branch (fast-forward when possible)."""
    settings = request.app.state.settings
    try:
        result, base_branch = await asyncio.to_thread(
            task_workspace.merge, request.app.state.sessionmaker, task_id,
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
        base_branch=base_branch,
    )


@router.delete("/{task_id}/workspace", status_code=204)
async def delete_workspace(
    task_id: str,
    request: Request,
    branch: DeleteBranch = False,
) -> Response:
    try:
        await asyncio.to_thread(
            task_workspace.remove, request.app.state.sessionmaker, task_id, delete_branch=branch
        )
    except WorkspaceError as exc:
        raise HTTPException(409, str(exc)) from None
    return Response(status_code=204)
