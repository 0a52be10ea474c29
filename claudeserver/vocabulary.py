"""The words every layer shares, importing nothing of claudeserver: task statuses and
the one table of legal moves between them."""

from __future__ import annotations

import enum


class TaskStatus(str, enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    TESTING = "testing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED})
ACTIVE = frozenset({TaskStatus.RUNNING, TaskStatus.PAUSED, TaskStatus.TESTING})

# target -> the statuses a task may move there from. Every status change in the
# system is a guarded UPDATE against this table, so two processes can never both
# move one task.
TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    # Back to pending: a retry or a follow-up of a finished task, or a requeue after a crash.
    TaskStatus.PENDING: frozenset({*TERMINAL, *ACTIVE}),
    TaskStatus.RUNNING: frozenset({TaskStatus.PENDING, TaskStatus.PAUSED, TaskStatus.TESTING}),
    TaskStatus.PAUSED: frozenset({TaskStatus.RUNNING}),
    TaskStatus.TESTING: frozenset({TaskStatus.RUNNING}),
    TaskStatus.COMPLETED: frozenset({TaskStatus.TESTING}),
    TaskStatus.FAILED: frozenset({TaskStatus.PENDING, *ACTIVE}),
    TaskStatus.CANCELLED: frozenset({TaskStatus.PENDING, *ACTIVE}),
}


def allowed_sources(target: TaskStatus) -> frozenset[TaskStatus]:
    return TRANSITIONS[target]
