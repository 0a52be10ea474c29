"""Approvals: grey-zone tool calls held for a person (sessions with `approvals: "human"`)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request

from claudeserver.api.approval_schemas import ApprovalAnswer, ApprovalOut
from claudeserver.api.deps import SessionDep, SettingsDep
from claudeserver.api.errors import invalid, responses
from claudeserver.api.presenters import approval_out
from claudeserver.domain import approvals, lifecycle

router = APIRouter(prefix="/api/v1", tags=["approvals"], responses=responses(401, 404))

Status = Literal["pending", "allowed", "denied", "expired"]


@router.get("/approvals", response_model=list[ApprovalOut])
def list_approvals(
    db: SessionDep,
    settings: SettingsDep,
    status: Status | None = None,
    session_id: str | None = Query(None, max_length=64),
    limit: int = Query(100, ge=1, le=500),
) -> list[ApprovalOut]:
    """Newest first; `?status=pending` for the calls waiting for an answer."""
    rows = approvals.listing(db, status=status, session_id=session_id, limit=limit)
    return [approval_out(a, timeout_seconds=settings.approval_timeout_seconds) for a in rows]


@router.get("/approvals/{approval_id}", response_model=ApprovalOut)
def get_approval(approval_id: str, db: SessionDep, settings: SettingsDep) -> ApprovalOut:
    approval = approvals.get(db, approval_id)
    return approval_out(approval, timeout_seconds=settings.approval_timeout_seconds)


@router.post(
    "/approvals/{approval_id}", response_model=ApprovalOut, responses=responses(400, 409, 413)
)
def answer_approval(
    approval_id: str, body: ApprovalAnswer, request: Request, settings: SettingsDep
) -> ApprovalOut:
    """Allow or deny a pending approval; 409 when it was already answered or expired."""
    try:
        approval = approvals.answer(
            request.app.state.sessionmaker, approval_id=approval_id,
            allow=body.decision == "allow", reason=body.reason, remember=body.remember,
        )  # fmt: skip
    except approvals.CannotRemember as exc:
        raise invalid("body", "remember", str(exc)) from None
    return approval_out(approval, timeout_seconds=settings.approval_timeout_seconds)


@router.get("/tasks/{task_id}/approvals", response_model=list[ApprovalOut])
def task_approvals(task_id: str, db: SessionDep, settings: SettingsDep) -> list[ApprovalOut]:
    """The task's approvals, oldest first."""
    lifecycle.get(db, task_id)
    rows = approvals.of_task(db, task_id)
    return [approval_out(a, timeout_seconds=settings.approval_timeout_seconds) for a in rows]
