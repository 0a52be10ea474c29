"""Review comments on a task's diff, and sending them to the agent as a follow-up round."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from claudeserver.api.comment_schemas import CommentCreate, CommentOut, CommentUpdate
from claudeserver.api.deps import ExecutorDep, SessionDep
from claudeserver.api.errors import invalid, responses
from claudeserver.api.presenters import task_out
from claudeserver.api.schemas import TaskOut
from claudeserver.domain import comments, lifecycle
from claudeserver.persistence import comments as store

router = APIRouter(
    prefix="/api/v1/tasks", tags=["comments"], responses=responses(400, 401, 404, 409, 413)
)


@router.post("/{task_id}/comments", status_code=201, response_model=CommentOut)
def add_comment(task_id: str, body: CommentCreate, db: SessionDep) -> CommentOut:
    """A comment on a line of the task's diff, or a review finding made into one."""
    try:
        if body.from_finding is not None:
            row = comments.from_finding(db, task_id=task_id, index=body.from_finding)
        else:
            assert body.file is not None and body.line is not None and body.body is not None
            row = comments.create(
                db, task_id=task_id, file=body.file, line=body.line, side=body.side,
                body=body.body,
            )  # fmt: skip
    except comments.CommentError as exc:
        raise invalid("body", exc.field, str(exc)) from None
    return CommentOut.model_validate(row)


@router.get("/{task_id}/comments", response_model=list[CommentOut])
def list_comments(task_id: str, db: SessionDep) -> list[CommentOut]:
    lifecycle.get(db, task_id)
    return [CommentOut.model_validate(r) for r in store.list_comments(db, task_id=task_id)]


@router.patch("/{task_id}/comments/{comment_id}", response_model=CommentOut)
def edit_comment(task_id: str, comment_id: str, body: CommentUpdate, db: SessionDep) -> CommentOut:
    """Change its text, resolve it (`"resolved": true`) or open it again."""
    row = comments.update(
        db, task_id=task_id, comment_id=comment_id, body=body.body, resolved=body.resolved
    )
    return CommentOut.model_validate(row)


@router.delete("/{task_id}/comments/{comment_id}", status_code=204)
def delete_comment(task_id: str, comment_id: str, db: SessionDep) -> Response:
    comments.delete(db, task_id=task_id, comment_id=comment_id)
    return Response(status_code=204)


@router.post("/{task_id}/comments/send", response_model=TaskOut)
def send_comments(task_id: str, request: Request, db: SessionDep, executor: ExecutorDep) -> TaskOut:
    """Every unresolved comment, quoted with its code, in one follow-up round."""
    factory = request.app.state.sessionmaker
    return task_out(db, comments.send(db, factory, executor, task_id=task_id))
