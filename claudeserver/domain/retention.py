"""Removing finished tasks' workspaces once WORKSPACE_RETENTION_HOURS have passed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.domain.workspace import Workspace, remove_expired
from claudeserver.persistence import tasks
from claudeserver.persistence.models import utcnow
from claudeserver.settings import Settings


def remove_old_workspaces(db: sessionmaker[DB], settings: Settings) -> int:
    """Blocking (git, file removal): call from a thread. Returns how many were removed.

    Branches stay; the tasks record when their workspace went.
    """
    now = utcnow()
    max_age = timedelta(hours=settings.workspace_retention_hours)
    with db() as s:
        rows = [
            (t.id, Path(t.session.project_path), Workspace.from_json(t.workspace), at)
            for t in tasks.expired_workspaces(s, before=now - max_age)
            if t.workspace is not None and (at := t.completed_at) is not None
        ]
    owner = {str(ws.path): task_id for task_id, _, ws, _ in rows}
    finished = [(project, ws, at) for _, project, ws, at in rows]
    removed = remove_expired(finished, max_age=max_age, now=now)
    with db() as s:
        for ws in removed:
            tasks.update_task(s, task_id=owner[str(ws.path)], workspace_removed_at=now)
    return len(removed)
