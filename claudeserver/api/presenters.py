"""Turn rows into response bodies (the test summary is computed, not stored)."""

from __future__ import annotations

from sqlalchemy.orm import Session as DB

from claudeserver.api.schemas import (
    InteractionOut,
    TaskDetail,
    TaskOut,
    TaskStatusOut,
    TestCaseOut,
    TestSummary,
)
from claudeserver.domain.status import TaskStatus
from claudeserver.persistence import repository as repo
from claudeserver.persistence.models import Task


def task_out(db: DB, task: Task) -> TaskOut:
    summary = TestSummary(**repo.test_counts(db, task_id=task.id))
    return TaskOut.model_validate({**_fields(task), "test_summary": summary})


def task_status(db: DB, task: Task) -> TaskStatusOut:
    return TaskStatusOut(
        id=task.id,
        status=TaskStatus(task.status),
        summary=task.summary,
        progress=task.progress,
        test_summary=TestSummary(**repo.test_counts(db, task_id=task.id)),
    )


DETAIL_INTERACTIONS = 200


def task_detail(db: DB, task: Task) -> TaskDetail:
    """Full details; a long history is capped to its first DETAIL_INTERACTIONS entries."""
    base = task_out(db, task)
    total = repo.count_interactions(db, task_id=task.id)
    rows = repo.interactions_after(db, task_id=task.id, after=0, limit=DETAIL_INTERACTIONS)
    more = None
    if total > len(rows):
        more = f"/api/v1/tasks/{task.id}/interactions?after={rows[-1].sequence}"
    return TaskDetail(
        **base.model_dump(),
        interactions=[InteractionOut.model_validate(i) for i in rows],
        interactions_total=total,
        interactions_next=more,
        test_cases=[TestCaseOut.model_validate(t) for t in task.test_cases],
    )


def _fields(task: Task) -> dict[str, object]:
    return {name: getattr(task, name) for name in TaskOut.model_fields if name != "test_summary"}
