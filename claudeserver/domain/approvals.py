"""Approvals: grey-zone tool calls a session with `approvals: "human"` holds for a person.

A held call's task runner creates the approval (domain/taskrun/holds.py) and waits; a
person answers it here, in whichever process the API runs; the runner reads the answer
from the database. Each answer, expiry and request is also an entry in the task's
timeline (and so an event on its streams). States: pending, then allowed or denied (by
the user, or by the simulated human after APPROVAL_TIMEOUT_SECONDS), or expired when the
task stopped first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.persistence import approvals as store
from claudeserver.persistence import interactions, transactions
from claudeserver.persistence.models import Approval
from claudeserver.vocabulary import Kind, Role

USER, SIMULATED_HUMAN = "user", "simulated_human"


class ApprovalNotFound(LookupError):
    def __init__(self, approval_id: str) -> None:
        super().__init__(f"approval {approval_id} not found")


class AlreadyAnswered(Exception):
    """Answered (or expired) before this answer arrived (HTTP 409)."""


class CannotRemember(ValueError):
    """`remember` for a call no rule can name (its text held a secret, now redacted)."""


def get(db: DB, approval_id: str) -> Approval:
    approval = store.get(db, approval_id=approval_id)
    if approval is None:
        raise ApprovalNotFound(approval_id)
    return approval


def answer(
    factory: sessionmaker[DB], *, approval_id: str, allow: bool, reason: str | None,
    remember: bool,
) -> Approval:  # fmt: skip
    """A person's answer; `remember` adds the call's rules to the session's policy
    (`approved_rules` for allow, `deny_rules` for deny) so the next such call is not asked."""
    with transactions.unit_of_work(factory) as db:
        approval = get(db, approval_id)
        if approval.status != store.PENDING:
            raise _answered(approval)
        if remember and not approval.rules:
            raise CannotRemember(
                "this call cannot be remembered: its text held a secret, so no rule names it"
            )
        status = store.ALLOWED if allow else store.DENIED
        if not store.decide(
            db, approval_id=approval_id, status=status, decided_by=USER, reason=reason,
            remember=remember,
        ):  # fmt: skip
            db.refresh(approval)
            raise _answered(approval)
        db.refresh(approval)
        if remember:
            key = "approved_rules" if allow else "deny_rules"
            store.add_session_rules(
                db, session_id=approval.session_id, key=key, rules=approval.rules
            )
        verb = "Allowed" if allow else "Denied"
        kept = f" (remembered: {', '.join(approval.rules)})" if remember else ""
        said = f": {reason}" if reason else ""
        record(db, approval, Role.USER, f"{verb} by the user{said}{kept}")
    with factory() as db:
        return get(db, approval_id)


def record(db: DB, approval: Approval, role: Role, content: str) -> None:
    """The approval's latest state, as an entry of its task's timeline."""
    data: dict[str, Any] = {
        "approval_id": approval.id,
        "status": approval.status,
        "decided_by": approval.decided_by,
        "reason": approval.reason,
        "remember": approval.remember,
        "tool": approval.tool,
    }
    interactions.add_interaction(
        db, task_id=approval.task_id, role=role, kind=Kind.APPROVAL, content=content, data=data
    )


def expire_pending(db: DB, *, task_id: str, why: str) -> int:
    """The task stopped (cancelled, or its process went away): nobody waits for answers to
    its pending approvals any more. Commits; returns how many expired."""
    expired = 0
    for approval in store.pending_of_task(db, task_id=task_id):
        if store.decide(
            db, approval_id=approval.id, status=store.EXPIRED, decided_by=None, reason=why
        ):
            db.refresh(approval)
            record(db, approval, Role.SYSTEM, f"Approval expired: {why}")
            expired += 1
    db.commit()
    return expired


def of_task(db: DB, task_id: str) -> Sequence[Approval]:
    return store.of_task(db, task_id=task_id)


def listing(
    db: DB, *, status: str | None, session_id: str | None, limit: int
) -> Sequence[Approval]:
    return store.listing(db, status=status, session_id=session_id, limit=limit)


def _answered(approval: Approval) -> AlreadyAnswered:
    by = f" by {approval.decided_by}" if approval.decided_by else ""
    return AlreadyAnswered(f"approval {approval.id} was already answered: {approval.status}{by}")
