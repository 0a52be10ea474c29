"""A large database built directly (SQLAlchemy core bulk inserts), schema from migrations.

Interactions look like a real task's log: tool calls with inputs, tool results, text,
permission decisions, status and progress rows, in that mix. A few "heavy" tasks have
long histories, so the capped task detail and deep interaction pages are exercised.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from claudeserver.persistence.db import make_engine, migrate
from claudeserver.persistence.models import ClaudeInteraction, Session, Task, TestCase

BATCH = 20_000
HEAVY_TASKS = 10
HEAVY_SHARE = 0.1  # of all interactions, spread over the heavy tasks
TEST_CASES_PER_TASK = 4


@dataclass(frozen=True)
class Dataset:
    path: Path
    task_ids: list[str]
    heavy_ids: list[str]
    interactions: int
    per_heavy_task: int


def _templates() -> list[tuple[str, str, str, dict[str, Any] | None]]:
    output = "collected 4 items\n\ntests/test_mathutil.py ....  [100%]\n" * 4
    return [
        ("system", "progress", "Task is running - turn 1", None),
        ("human", "prompt", "Implement the task in this project now. " * 6, None),
        (
            "permission",
            "allow",
            "file edit inside the project",
            {"tool": "Write", "input": {"file_path": "/p/mathutil.py"}, "category": "file"},
        ),
        (
            "assistant",
            "tool_use",
            "Write",
            {
                "id": "toolu_01",
                "input": {
                    "file_path": "/p/mathutil.py",
                    "content": "def add(a, b):\n    return a + b\n",
                },
            },
        ),
        ("tool", "tool_result", "File created successfully at: /p/mathutil.py", {"id": "toolu_01"}),
        (
            "permission",
            "allow",
            "read-only command",
            {"tool": "Bash", "input": {"command": "pytest -q"}, "category": "test"},
        ),
        ("assistant", "tool_use", "Bash", {"id": "toolu_02", "input": {"command": "pytest -q"}}),
        ("tool", "tool_result", output, {"id": "toolu_02"}),
        (
            "assistant",
            "text",
            "I implemented add and ran the tests; all of them pass.",
            {"model": "claude-sonnet"},
        ),
        (
            "test",
            "test_result",
            "passed: tests/test_mathutil.py::test_small",
            {"type": "generated", "status": "passed", "duration": 0.001},
        ),
    ]


def build(path: Path, *, tasks: int, interactions: int) -> Dataset:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    # Long enough (> the 1000 the task detail shows) to exercise the cap and deep pages.
    heavy = max(1, min(HEAVY_TASKS, tasks // 1000))
    per_heavy = int(interactions * HEAVY_SHARE) // heavy
    per_task = (interactions - per_heavy * heavy) // (tasks - heavy)
    task_ids = [str(uuid.uuid4()) for _ in range(tasks)]
    start = datetime(2025, 1, 1)
    templates = _templates()
    total = 0
    with engine.begin() as conn:
        session_id = str(uuid.uuid4())
        conn.execute(
            insert(Session),
            [
                {
                    "id": session_id,
                    "project_path": "/srv/p",
                    "isolation": "none",
                    "created_at": start,
                }
            ],
        )
        conn.execute(
            insert(Task),
            [
                {
                    "id": tid,
                    "session_id": session_id,
                    "description": f"Task {n}: add a function",
                    "status": "completed" if n % 5 else "failed",
                    "summary": "Completed: all tests",
                    "progress": "Completed",
                    "iterations": 2,
                    "test_rounds": 1,
                    "cost_usd": 0.01,
                    "created_at": start + timedelta(seconds=n),
                    "updated_at": start,
                    "started_at": start,
                    "completed_at": start,
                }
                for n, tid in enumerate(task_ids)
            ],
        )
        conn.execute(
            insert(TestCase),
            [
                {
                    "task_id": tid,
                    "name": f"tests/test_m.py::test_{k}",
                    "type": "generated",
                    "file_path": "tests/test_m.py",
                    "status": "passed",
                    "duration": 0.001,
                }
                for tid in task_ids
                for k in range(TEST_CASES_PER_TASK)
            ],
        )
    rows: list[dict[str, Any]] = []
    with engine.connect() as conn:
        for n, tid in enumerate(task_ids):
            count = per_heavy if n < heavy else per_task
            for seq in range(1, count + 1):
                role, kind, content, data = templates[seq % len(templates)]
                rows.append(
                    {
                        "task_id": tid,
                        "sequence": seq,
                        "role": role,
                        "kind": kind,
                        "content": content,
                        "data": data,
                        "created_at": start + timedelta(seconds=n, microseconds=seq),
                    }
                )
                if len(rows) >= BATCH:
                    total += _flush(conn, rows)
            total += _flush(conn, rows)
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return Dataset(path, task_ids, task_ids[:heavy], total, per_heavy)


def _flush(conn: Any, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    conn.execute(insert(ClaudeInteraction), rows)
    conn.commit()
    done = len(rows)
    rows.clear()
    return done
