"""SQLAlchemy models: the seed's Session, Task, TestCase and ClaudeInteraction; transcripts."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    pass


class Session(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    project_path: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    # Set when the session was made from a repository URL: project_path is then the
    # server's clone of it, and finished branches are pushed back there.
    repo_url: Mapped[str | None] = mapped_column(Text)
    # "worktree": every task in its own git worktree and branch; "none": in the project itself.
    isolation: Mapped[str] = mapped_column(String(16), nullable=False, default="none")
    base_branch: Mapped[str | None] = mapped_column(Text)
    # How tests run (pytest, node, go, cargo, command; unset = detected) and model defaults.
    test_runner: Mapped[str | None] = mapped_column(String(16))
    test_command: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(128))
    fallback_model: Mapped[str | None] = mapped_column(String(128))
    webhook_url: Mapped[str | None] = mapped_column(Text)
    # What the webhook is sent as: "json" (the status, signed) or "slack" (a message).
    webhook_format: Mapped[str] = mapped_column(
        String(16), nullable=False, default="json", server_default="json"
    )
    # Additions to the server's policy (policy.PolicyOptions.to_json).
    policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Load the project's own .claude settings, hooks and MCP servers (they run code).
    trust_project_settings: Mapped[bool] = mapped_column(Boolean, default=False)
    # After the tests pass, a read-only agent pass reviews the diff.
    review: Mapped[bool] = mapped_column(Boolean, default=False)
    # Tests failing before a task: "ignore" (shown, not held against the agent) or "block"
    # (they must pass too).
    baseline_failures: Mapped[str] = mapped_column(
        String(16), nullable=False, default="ignore", server_default="ignore"
    )
    # The network of the confined test runs: "loopback" (only) or "host".
    test_network: Mapped[str] = mapped_column(
        String(16), nullable=False, default="loopback", server_default="loopback"
    )
    # "host:port" services on the loopback the confined test runs may reach.
    test_services: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # Spend limit per task attempt for its tasks (unset: MAX_BUDGET_USD); a task's own wins.
    max_budget_usd: Mapped[float | None] = mapped_column(Float)
    # Who answers the policy's grey-zone asks: "auto" (the simulated human, as the policy
    # would) or "human" (a person, through the approvals API; the agent waits).
    approvals: Mapped[str] = mapped_column(
        String(8), nullable=False, default="auto", server_default="auto"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    tasks: Mapped[list[Task]] = relationship(back_populates="session")


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_session_created", "session_id", "created_at"),
        Index("ix_tasks_created", "created_at", "id"),  # the newest-first task list
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True, default="pending")
    summary: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    claude_session_id: Mapped[str | None] = mapped_column(String(64))
    # Requested at creation (or the server default); replaced by the model the CLI reports.
    model: Mapped[str | None] = mapped_column(String(128))
    fallback_model: Mapped[str | None] = mapped_column(String(128))
    # Cost in USD per model, from the CLI's usage reports.
    model_costs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    max_iterations: Mapped[int | None] = mapped_column(Integer)
    max_budget_usd: Mapped[float | None] = mapped_column(Float)
    test_command: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    webhook_url: Mapped[str | None] = mapped_column(Text)
    webhook_format: Mapped[str | None] = mapped_column(String(16))  # None: the session's
    review: Mapped[bool | None] = mapped_column(Boolean)  # None: the session decides
    approvals: Mapped[str | None] = mapped_column(String(8))  # None: the session's
    review_findings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    resumes: Mapped[int] = mapped_column(Integer, default=0)
    # Why it is (or was last) pending, a vocabulary.QueuedFor; and the interaction sequence
    # at which a person last queued it (created, retried, followed up): the current attempt's
    # messages come after it.
    queued_for: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    attempt_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The sequence number of its newest interaction: each new one takes the next, counted
    # here so concurrent writers never pick the same.
    last_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # host:pid of the process that last ran the task.
    worker: Mapped[str | None] = mapped_column(String(255))
    # What the project looked like before the agent touched it: the pre-existing test
    # files (by digest) and each regression test's outcome. Kept so retries and resumes agree.
    baseline: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    baseline_duration: Mapped[float | None] = mapped_column(Float)  # seconds
    round_durations: Mapped[list[float] | None] = mapped_column(JSON)  # seconds, per test round
    # Where the task works (see domain.workspace.Workspace.to_json) and when that was removed.
    workspace: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    workspace_removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    iterations: Mapped[int] = mapped_column(Integer, default=0)
    pauses: Mapped[int] = mapped_column(Integer, default=0)
    test_rounds: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    # Fresh conversations started because the old one no longer fit the context window.
    context_restarts: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)

    session: Mapped[Session] = relationship(back_populates="tasks")
    interactions: Mapped[list[ClaudeInteraction]] = relationship(
        back_populates="task", order_by="ClaudeInteraction.sequence"
    )
    test_cases: Mapped[list[TestCase]] = relationship(back_populates="task", order_by="TestCase.id")


class TestCase(Base):
    __tablename__ = "test_cases"
    __table_args__ = (
        # A test id names one test of a task's run: a runner reporting one twice is a bug
        # that must not leave a stale row behind.
        UniqueConstraint("task_id", "type", "name", name="uq_test_cases_task_type_name"),
    )
    __test__ = False  # not a pytest class

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    file_path: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    output: Mapped[str | None] = mapped_column(Text)
    duration: Mapped[float | None] = mapped_column(Float)
    # Its outcome before the task (regression tests only), and whether it failed in a round
    # but passed when re-run on its own.
    baseline_status: Mapped[str | None] = mapped_column(String(16))
    flaky: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    task: Mapped[Task] = relationship(back_populates="test_cases")


class ReviewComment(Base):
    """A person's comment on a line of a task's diff, until resolved; sent to the agent as a
    follow-up round, after which it is `addressed` when the agent changed its line."""

    __tablename__ = "review_comments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # Deleted with its task (the database does it: the task's deletion is one statement).
    task_id: Mapped[str] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False, index=True
    )
    file: Mapped[str] = mapped_column(Text, nullable=False)  # as the diff names it
    line: Mapped[int] = mapped_column(Integer, nullable=False)  # 1-based, on `side`
    side: Mapped[str] = mapped_column(String(8), nullable=False)  # "new" or "old"
    body: Mapped[str] = mapped_column(Text, nullable=False)
    # The text of the commented line when the comment was made: finds it again after other
    # changes moved it.
    line_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    source: Mapped[str] = mapped_column(String(16), nullable=False, default="user")  # or review
    resolved: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    addressed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # The last round it was sent in (the task's attempt) and when; `in_round` until that
    # round completed and the comment was checked against what it changed.
    sent_attempt: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    in_round: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # The commented file as it was when sent, and the lines of it (0-based, half open) the
    # comment is about: a round that changes them addresses it.
    sent_text: Mapped[str | None] = mapped_column(Text)
    anchor_start: Mapped[int | None] = mapped_column(Integer)
    anchor_end: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ClaudeInteraction(Base):
    __tablename__ = "claude_interactions"
    __table_args__ = (
        Index("ix_interactions_task_seq", "task_id", "sequence", unique=True),
        # A running task looks for a person's new messages several times a second; without
        # this it would read through the whole history each time.
        Index("ix_interactions_task_role_seq", "task_id", "role", "sequence"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False)
    # role: assistant | tool | system | human (simulated) | user (a real person) | permission | test
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    task: Mapped[Task] = relationship(back_populates="interactions")


class Approval(Base):
    """A grey-zone tool call held for a person (a session with `approvals: "human"`).

    status: pending, then allowed or denied (by `decided_by`: "user" or "simulated_human"
    after APPROVAL_TIMEOUT_SECONDS), or expired (the task was cancelled or stopped first).
    Deleted with its task.
    """

    __tablename__ = "approvals"
    __table_args__ = (Index("ix_approvals_status_created", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    task_id: Mapped[str] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False, index=True
    )
    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False
    )
    tool: Mapped[str] = mapped_column(String(255), nullable=False)
    input_summary: Mapped[str] = mapped_column(Text, nullable=False)  # redacted
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    question: Mapped[str] = mapped_column(Text, nullable=False)  # why the policy asks
    # What the policy answers unattended ("allow" or "deny"): the simulated human's answer.
    unattended: Mapped[str] = mapped_column(String(8), nullable=False)
    # The rules (Claude Code syntax) that `remember` adds to the session's policy.
    rules: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    remember: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)


class TranscriptEntry(Base):
    """One line of a Claude Code session transcript, mirrored so any worker can resume it.

    Keyed like the SDK's `SessionKey`: `project_key` (the CLI's munged cwd), `session_id`
    and `subpath` ("" for the main transcript, else e.g. "subagents/agent-<id>").
    """

    __tablename__ = "transcript_entries"
    __table_args__ = (
        # Also the idempotency key: a retried append must not duplicate lines. Entries
        # without a uuid (titles, tags) have NULL here, which a unique index never matches.
        Index(
            "ix_transcript_entries_key_uuid",
            "project_key",
            "session_id",
            "subpath",
            "uuid",
            unique=True,
        ),
        Index("ix_transcript_entries_session", "session_id"),  # deleting a task's transcript
    )

    # Insertion order is transcript order.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    project_key: Mapped[str] = mapped_column(String(255), nullable=False)
    session_id: Mapped[str] = mapped_column(String(64), nullable=False)
    # "" rather than NULL for the main transcript, so the unique index above applies to it.
    subpath: Mapped[str] = mapped_column(Text, nullable=False, default="")
    uuid: Mapped[str | None] = mapped_column(String(64))
    entry: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DailySpend(Base):
    """What all tasks spent on one UTC day, for DAILY_BUDGET_USD (added to as turns end)."""

    __tablename__ = "daily_spend"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, UTC
    cost_usd: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)


class CredentialRejection(Base):
    """The model API refused these credentials (401/403, "Not logged in"), as a task saw.

    Keyed by a digest of the credentials the server had (domain/credentials.py), never the
    credentials themselves: once they change, the rejection no longer applies.
    """

    __tablename__ = "credential_rejections"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    message: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
