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


class Role(str, enum.Enum):
    """Who an interaction (a row of a task's timeline) comes from."""

    SYSTEM = "system"  # the server: status changes, progress, commits, webhooks
    ASSISTANT = "assistant"  # the agent
    TOOL = "tool"  # what a tool call returned
    HUMAN = "human"  # the simulated human
    USER = "user"  # a real person
    PERMISSION = "permission"  # the permission gate's decisions
    TEST = "test"  # the test gate


class Kind(str, enum.Enum):
    """What an interaction is. System notices of the CLI keep its own subtype instead
    (init, api_retry, compact_boundary, ...)."""

    STATUS = "status"
    PROGRESS = "progress"
    PROMPT = "prompt"
    CONTINUATION = "continuation"
    ANSWER = "answer"
    TEXT = "text"
    TOOL_USE = "tool_use"
    TOOL_RESULT = "tool_result"
    TOOL_ERROR = "tool_error"
    RESULT = "result"
    ERROR = "error"
    ALLOW = "allow"
    DENY = "deny"
    TEST_RESULT = "test_result"
    BASELINE = "baseline"
    ROUND = "round"
    MESSAGE = "message"  # a person's message to a running agent
    FOLLOW_UP = "follow_up"  # a person's request to continue a finished task
    COMMIT = "commit"
    PUSH = "push"
    WEBHOOK = "webhook"
    SANDBOX = "sandbox"
    COMPACTION = "compaction"  # Claude Code summarised the conversation to make room
    CLI_STATUS = "cli_status"  # the CLI's own status notices (not the task's)
    CONTEXT_RESTART = "context_restart"  # a fresh conversation; data names the one before
    APPROVAL_REQUEST = "approval_request"  # a grey-zone call waits for a person's answer
    APPROVAL = "approval"  # its answer (by the user, or the simulated human), or its expiry
    COMMENT = "comment"  # a review comment on the diff: added, edited, resolved, sent, addressed


class QueuedFor(str, enum.Enum):
    """Why a task is (or was last) pending."""

    NEW = "new"
    RETRY = "retry"  # a person retried it after it failed or was cancelled
    FOLLOW_UP = "follow_up"  # a person asked for more after it finished
    RESUME = "resume"  # the process running it stopped or died; it resumes
