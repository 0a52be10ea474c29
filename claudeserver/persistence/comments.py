"""Review comments on a task's diff: stored, listed, changed, sent and settled.

Each write commits on its own unless it runs inside a `transactions.unit_of_work`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DB

from claudeserver.persistence.models import ReviewComment, utcnow
from claudeserver.persistence.transactions import commit


def add_comment(
    db: DB, *, task_id: str, file: str, line: int, side: str, body: str, line_text: str,
    source: str,
) -> ReviewComment:  # fmt: skip
    row = ReviewComment(
        task_id=task_id, file=file, line=line, side=side, body=body, line_text=line_text,
        source=source, resolved=False, addressed=False, in_round=False,
    )  # fmt: skip
    db.add(row)
    commit(db)
    return row


def get_comment(db: DB, *, task_id: str, comment_id: str) -> ReviewComment | None:
    row = db.get(ReviewComment, comment_id)
    return row if row is not None and row.task_id == task_id else None


def list_comments(
    db: DB, *, task_id: str, unresolved: bool = False, in_round: bool = False
) -> Sequence[ReviewComment]:
    """Oldest first, by file and line within the same moment."""
    stmt = select(ReviewComment).where(ReviewComment.task_id == task_id)
    if unresolved:
        stmt = stmt.where(ReviewComment.resolved.is_(False))
    if in_round:
        stmt = stmt.where(ReviewComment.in_round.is_(True))
    order = (ReviewComment.created_at, ReviewComment.file, ReviewComment.line, ReviewComment.id)
    return db.scalars(stmt.order_by(*order)).all()


def update_comment(db: DB, row: ReviewComment, **fields: Any) -> ReviewComment:
    for name, value in fields.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    commit(db)
    return row


def delete_comment(db: DB, *, comment_id: str) -> None:
    db.execute(delete(ReviewComment).where(ReviewComment.id == comment_id))
    commit(db)


def mark_sent(
    db: DB,
    row: ReviewComment,
    *,
    attempt: int,
    at: datetime,
    line: int,
    sent_text: str | None,
    anchor: tuple[int, int] | None,
) -> None:
    """The comment goes to the agent in round `attempt`; it is checked once that completes."""
    row.line = line
    row.sent_attempt, row.sent_at, row.in_round = attempt, at, True
    row.sent_text = sent_text
    row.anchor_start, row.anchor_end = anchor if anchor is not None else (None, None)
    row.updated_at = at
    commit(db)


def settle(db: DB, row: ReviewComment, *, addressed: bool, line: int) -> None:
    """The round it was sent in completed: addressed (and so resolved) or still open."""
    row.in_round = False
    row.sent_text = None  # only needed to tell what the round changed
    row.anchor_start = row.anchor_end = None
    row.line = line
    if addressed:
        row.addressed = row.resolved = True
    row.updated_at = utcnow()
    commit(db)
