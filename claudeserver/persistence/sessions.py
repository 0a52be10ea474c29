"""Sessions: a project and the options its tasks inherit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session as DB

from claudeserver.persistence.models import Session, Task
from claudeserver.persistence.transactions import commit


def create_session(
    db: DB, *, project_path: str, isolation: str, base_branch: str | None, **options: Any
) -> Session:
    row = Session(
        project_path=project_path, isolation=isolation, base_branch=base_branch, **options
    )
    db.add(row)
    commit(db)
    return row


def update_session(db: DB, *, session_id: str, **changes: Any) -> Session | None:
    row = db.get(Session, session_id)
    if row is None:
        return None
    for name, value in changes.items():
        setattr(row, name, value)
    commit(db)
    return row


def get_session(db: DB, *, session_id: str) -> Session | None:
    return db.get(Session, session_id)


def list_sessions(db: DB) -> Sequence[Session]:
    return db.scalars(select(Session).order_by(Session.created_at.desc())).all()


def count_sessions(db: DB) -> int:
    return int(db.scalar(select(func.count()).select_from(Session)) or 0)


def delete_session(db: DB, *, session_id: str) -> bool:
    """Delete a session that has no tasks left; False when it has some (or is gone)."""
    has_tasks = select(Task.id).where(Task.session_id == session_id).exists()
    stmt = delete(Session).where(Session.id == session_id, ~has_tasks)
    deleted = bool(db.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]
    commit(db)
    return deleted
