"""A task's test cases: one row per test and kind of run, updated in place on reruns."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DB

from claudeserver.persistence.models import TestCase
from claudeserver.persistence.transactions import commit

# Longer test ids are stored shortened (unique by a digest): PostgreSQL cannot index a
# value of more than about 2.7 kB, and the ids are unique per task and type.
MAX_TEST_NAME_CHARS = 500

# (status, baseline status, flaky, how many) of a task's test cases
OutcomeCount = tuple[str, "str | None", bool, int]


def stored_test_name(name: str) -> str:
    if len(name) <= MAX_TEST_NAME_CHARS:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{name[: MAX_TEST_NAME_CHARS - 20]}…[{digest}]"


def save_test_cases(
    db: DB,
    *,
    task_id: str,
    test_type: str,
    results: Sequence[Any],
    baseline_status: Mapping[str, str] | None = None,
    flaky: Collection[str] = (),
) -> None:
    """Store one test run: each test by name keeps one row, updated in place on reruns.

    `baseline_status` maps test ids to their outcome before the task; a test once seen
    flaky stays marked so.
    """
    before = baseline_status or {}
    rows = {row.name: row for row in _of_type(db, task_id=task_id, test_type=test_type)}
    for result in results:
        name = stored_test_name(result.name)
        row = rows.get(name)
        if row is None:  # a runner that reports a test twice updates the one row
            row = rows[name] = TestCase(task_id=task_id, name=name, type=test_type, flaky=False)
            db.add(row)
        row.file_path = result.file_path
        row.status = result.status
        row.output = result.output
        row.duration = result.duration
        row.baseline_status = before.get(result.name)
        row.flaky = row.flaky or result.name in flaky
    commit(db)


def drop_test_cases(db: DB, *, task_id: str, test_type: str, keep: set[str]) -> None:
    """Forget generated tests the agent has since deleted, so the summary counts what exists."""
    kept = {stored_test_name(name) for name in keep}
    for row in _of_type(db, task_id=task_id, test_type=test_type):
        if row.name not in kept:
            db.delete(row)
    commit(db)


def _of_type(db: DB, *, task_id: str, test_type: str) -> Sequence[TestCase]:
    stmt = select(TestCase).where(TestCase.task_id == task_id, TestCase.type == test_type)
    return db.scalars(stmt).all()


def test_outcomes(db: DB, *, task_ids: Sequence[str]) -> dict[str, list[OutcomeCount]]:
    """Each task's test cases counted by outcome, in one query however many tasks."""
    stmt = (
        select(
            TestCase.task_id,
            TestCase.status,
            TestCase.baseline_status,
            TestCase.flaky,
            func.count(),
        )
        .where(TestCase.task_id.in_(task_ids))
        .group_by(TestCase.task_id, TestCase.status, TestCase.baseline_status, TestCase.flaky)
    )
    by_task: dict[str, list[OutcomeCount]] = {task_id: [] for task_id in task_ids}
    for task_id, status, before, flaky, n in db.execute(stmt):
        by_task[task_id].append((status, before, bool(flaky), int(n)))
    return by_task
