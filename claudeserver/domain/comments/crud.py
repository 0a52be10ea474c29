"""Comments on lines of a task's diff: made (by a person, or from a review finding),
edited, resolved and deleted; each change a `comment` interaction in the timeline.

Blocking (the diff runs git): routes call these from their thread pool.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session as DB

from claudeserver.domain import lifecycle
from claudeserver.domain.comments.lines import FileDiff, parse_diff, split_lines
from claudeserver.domain.task_workspace import present
from claudeserver.domain.workspace import Workspace, WorkspaceError, read_text
from claudeserver.domain.workspace import diff as workspace_diff
from claudeserver.persistence import comments as store
from claudeserver.persistence import interactions
from claudeserver.persistence.models import ReviewComment
from claudeserver.vocabulary import Kind, Role

LISTED_FILES = 20


class CommentNotFound(LookupError):
    def __init__(self, task_id: str, comment_id: str) -> None:
        super().__init__(f"comment {comment_id} of task {task_id} not found")


class CommentError(ValueError):
    """A request field that cannot work for this task's diff; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def current_diff(workspace: Workspace) -> dict[str, FileDiff]:
    try:
        return parse_diff(workspace_diff(workspace))
    except WorkspaceError as exc:
        raise lifecycle.NotNow(str(exc)) from None


def create(
    db: DB, *, task_id: str, file: str, line: int, side: str, body: str, source: str = "user"
) -> ReviewComment:
    """A comment on line `line` of `file`: on the file as it is now ("new": any of its
    lines) or on a line the diff shows of the file before the task ("old")."""
    task = lifecycle.get(db, task_id)
    workspace = present(task)
    line_text = _commented_line(workspace, current_diff(workspace), file, line, side)
    row = store.add_comment(
        db, task_id=task_id, file=file, line=line, side=side, body=body, line_text=line_text,
        source=source,
    )  # fmt: skip
    _record(db, row, "added", body)
    return row


def from_finding(db: DB, *, task_id: str, index: int) -> ReviewComment:
    """The review's finding number `index` (0-based, as stored) as a comment on its line."""
    findings: list[dict[str, Any]] = lifecycle.get(db, task_id).review_findings or []
    if not findings:
        raise CommentError("from_finding", f"task {task_id} has no review findings")
    if not 0 <= index < len(findings):
        raise CommentError(
            "from_finding",
            f"task {task_id} has {len(findings)} review findings: give 0 to {len(findings) - 1}",
        )
    finding = findings[index]
    file, line = finding.get("file"), finding.get("line")
    if not isinstance(file, str) or not isinstance(line, int):
        raise CommentError(
            "from_finding", f"finding {index} names no file and line: comment on a line yourself"
        )
    try:
        return create(
            db, task_id=task_id, file=file, line=line, side="new",
            body=str(finding.get("comment") or ""), source="review",
        )  # fmt: skip
    except CommentError as exc:
        raise CommentError("from_finding", f"finding {index}: {exc}") from None


def get(db: DB, *, task_id: str, comment_id: str) -> ReviewComment:
    lifecycle.get(db, task_id)
    row = store.get_comment(db, task_id=task_id, comment_id=comment_id)
    if row is None:
        raise CommentNotFound(task_id, comment_id)
    return row


def update(
    db: DB, *, task_id: str, comment_id: str, body: str | None, resolved: bool | None
) -> ReviewComment:
    row = get(db, task_id=task_id, comment_id=comment_id)
    changes: dict[str, Any] = {}
    if body is not None and body != row.body:
        changes["body"] = body
    if resolved is not None and resolved != row.resolved:
        changes["resolved"] = resolved
    if not changes:
        return row
    store.update_comment(db, row, **changes)
    if "body" in changes:
        _record(db, row, "edited", row.body)
    if "resolved" in changes:
        _record(db, row, "resolved" if row.resolved else "reopened", row.body)
    return row


def delete(db: DB, *, task_id: str, comment_id: str) -> None:
    row = get(db, task_id=task_id, comment_id=comment_id)
    _record(db, row, "deleted", row.body)
    store.delete_comment(db, comment_id=comment_id)


def where(row: ReviewComment) -> str:
    """ "src/x.py:42", or "src/x.py:-10" for a line of the file before the task."""
    return f"{row.file}:{'-' if row.side == 'old' else ''}{row.line}"


def _record(db: DB, row: ReviewComment, action: str, body: str) -> None:
    interactions.add_interaction(
        db, task_id=row.task_id, role=Role.USER, kind=Kind.COMMENT,
        content=f"comment {action} on {where(row)}: {body}",
        data={"action": action, "comment_id": row.id, "file": row.file, "line": row.line,
              "side": row.side},
    )  # fmt: skip


def _commented_line(
    workspace: Workspace, diff: dict[str, FileDiff], file: str, line: int, side: str
) -> str:
    """The text of the commented line; CommentError saying what to fix when there is none."""
    changed = diff.get(file)
    if changed is None:
        names = sorted(diff)
        listed = ", ".join(names[:LISTED_FILES]) + (" …" if len(names) > LISTED_FILES else "")
        raise CommentError(
            "file", f"{file} is not a file the task changed; its diff has: {listed or 'none'}"
        )
    if changed.binary:
        raise CommentError("file", f"{file} is a binary file: comment on a line of a text file")
    if side == "old":
        found = changed.find("old", line)
        if found is None:
            raise CommentError(
                "line",
                f"line {line} of {file} before the task is not in the diff; the diff shows its "
                f'old lines {changed.shown("old")} (use side "new" for the file as it is now)',
            )
        hunk, index = found
        return hunk[index].text
    text = read_text(workspace, file)
    if text is None:
        raise CommentError(
            "file", f"{file} is no longer a text file in the workspace: comment on its removed "
            'lines with side "old"',
        )  # fmt: skip
    lines = split_lines(text)
    if not 1 <= line <= len(lines):
        raise CommentError("line", f"{file} has {len(lines)} lines now; give 1 to {len(lines)}")
    return lines[line - 1]
