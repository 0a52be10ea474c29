"""Data functions for approvals: grey-zone tool calls held for a person.

Writes are flushed, not committed: the caller commits them, together with the timeline
entry that goes with each (inside `transactions.unit_of_work`, or with `db.commit()`).
Answering is a guarded UPDATE from `pending`, so of two answers exactly one wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DB

from claudeserver.persistence.models import Approval, Session, utcnow

PENDING, ALLOWED, DENIED, EXPIRED = "pending", "allowed", "denied", "expired"
STATUSES = (PENDING, ALLOWED, DENIED, EXPIRED)


def create(db: DB, **fields: Any) -> Approval:
    row = Approval(status=PENDING, created_at=utcnow(), **fields)
    db.add(row)
    db.flush()
    return row


def get(db: DB, *, approval_id: str) -> Approval | None:
    return db.get(Approval, approval_id)


def status_of(db: DB, *, approval_id: str) -> tuple[str, str | None, bool] | None:
    """(status, reason, remember), read fresh: what a waiting gate polls for."""
    stmt = select(Approval.status, Approval.reason, Approval.remember).where(
        Approval.id == approval_id
    )
    row = db.execute(stmt).first()
    return (row[0], row[1], bool(row[2])) if row else None


def of_task(db: DB, *, task_id: str) -> Sequence[Approval]:
    stmt = select(Approval).where(Approval.task_id == task_id).order_by(Approval.created_at)
    return db.scalars(stmt).all()


def listing(
    db: DB, *, status: str | None, session_id: str | None, limit: int
) -> Sequence[Approval]:
    """Newest first."""
    stmt = select(Approval).order_by(Approval.created_at.desc(), Approval.id).limit(limit)
    if status is not None:
        stmt = stmt.where(Approval.status == status)
    if session_id is not None:
        stmt = stmt.where(Approval.session_id == session_id)
    return db.scalars(stmt).all()


def decide(
    db: DB, *, approval_id: str, status: str, decided_by: str | None, reason: str | None,
    remember: bool = False,
) -> bool:  # fmt: skip
    """Answer a pending approval; False when it was no longer pending."""
    stmt = (
        update(Approval)
        .where(Approval.id == approval_id, Approval.status == PENDING)
        .values(
            status=status,
            decided_by=decided_by,
            reason=reason,
            remember=remember,
            decided_at=utcnow(),
        )
    )
    moved = bool(db.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]
    db.flush()
    return moved


def pending_of_task(db: DB, *, task_id: str) -> Sequence[Approval]:
    stmt = select(Approval).where(Approval.task_id == task_id, Approval.status == PENDING)
    return db.scalars(stmt).all()


def add_session_rules(db: DB, *, session_id: str, key: str, rules: Sequence[str]) -> None:
    """Add rules to one list of the session's policy (`approved_rules`, `deny_rules`)."""
    session = db.get(Session, session_id, with_for_update=True)
    if session is None:
        return
    policy = dict(session.policy or {})
    policy[key] = list(dict.fromkeys([*(policy.get(key) or []), *rules]))
    session.policy = policy  # a new object: the JSON column sees the change
    db.flush()
