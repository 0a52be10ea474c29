"""Turn rows into response bodies (the test summary is computed, not stored)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.orm import Session as DB

from claudeserver.api.approval_schemas import ApprovalOut
from claudeserver.api.schemas import (
    InteractionOut,
    TaskDetail,
    TaskOut,
    TaskStatusOut,
    TestCaseOut,
    TestSummary,
)
from claudeserver.domain.judging import test_summary, verdict
from claudeserver.persistence import interactions, testcases
from claudeserver.persistence.models import Approval, Task, TestCase
from claudeserver.vocabulary import TaskStatus

COUNTS_PER_QUERY = 500  # well under SQLite's limit on bound parameters


def task_outs(db: DB, tasks: Sequence[Task]) -> list[TaskOut]:
    counts: dict[str, dict[str, int]] = {}
    for start in range(0, len(tasks), COUNTS_PER_QUERY):
        chunk = tasks[start : start + COUNTS_PER_QUERY]
        outcomes = testcases.test_outcomes(db, task_ids=[t.id for t in chunk])
        counts |= {task_id: test_summary(rows) for task_id, rows in outcomes.items()}
    return [
        TaskOut.model_validate({**_fields(t), "test_summary": TestSummary(**counts[t.id])})
        for t in tasks
    ]


def task_out(db: DB, task: Task) -> TaskOut:
    return task_outs(db, [task])[0]


def task_status(db: DB, task: Task) -> TaskStatusOut:
    return TaskStatusOut(
        id=task.id,
        status=TaskStatus(task.status),
        summary=task.summary,
        progress=task.progress,
        test_summary=TestSummary(
            **test_summary(testcases.test_outcomes(db, task_ids=[task.id])[task.id])
        ),
    )


DETAIL_INTERACTIONS = 200


def task_detail(db: DB, task: Task) -> TaskDetail:
    """Full details; a long history is capped to its first DETAIL_INTERACTIONS entries."""
    base = task_out(db, task)
    total = interactions.count_interactions(db, task_id=task.id)
    rows = interactions.interactions_after(db, task_id=task.id, after=0, limit=DETAIL_INTERACTIONS)
    more = None
    if total > len(rows):
        more = f"/api/v1/tasks/{task.id}/interactions?after={rows[-1].sequence}"
    return TaskDetail(
        **base.model_dump(),
        interactions=[InteractionOut.model_validate(i) for i in rows],
        interactions_total=total,
        interactions_next=more,
        test_cases=[test_case_out(t) for t in task.test_cases],
    )


def test_case_out(case: TestCase) -> TestCaseOut:
    what = verdict(baseline_status=case.baseline_status, status=case.status, flaky=case.flaky)
    fields = {name: getattr(case, name) for name in TestCaseOut.model_fields if name != "verdict"}
    return TestCaseOut.model_validate({**fields, "verdict": what})


def _fields(task: Task) -> dict[str, object]:
    return {name: getattr(task, name) for name in TaskOut.model_fields if name != "test_summary"}


def approval_out(approval: Approval, *, timeout_seconds: float) -> ApprovalOut:
    fields = {n: getattr(approval, n) for n in ApprovalOut.model_fields if n != "expires_at"}
    pending = approval.status == "pending"
    expires = approval.created_at + timedelta(seconds=timeout_seconds) if pending else None
    return ApprovalOut.model_validate({**fields, "expires_at": expires})
