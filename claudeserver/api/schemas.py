"""Request and response bodies: the seed README's JSON shapes."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    field_validator,
    model_validator,
)

from claudeserver.domain.service_bridge import Service
from claudeserver.domain.webhooks import forbidden_host
from claudeserver.domain.workspace import WorkspaceError
from claudeserver.domain.workspace.remote import check_url
from claudeserver.policy import PolicyOptions
from claudeserver.vocabulary import TaskStatus

MODEL_PATTERN = r"^[A-Za-z0-9._:\[\]/-]+$"


def _http_url(url: str) -> str:
    # Parsed as browsers do: 2852039166 and 0xA9.0xFE.0xA9.0xFE are 169.254.169.254 too.
    host = (HttpUrl(url).host or "").strip("[]").rstrip(".").lower()
    if forbidden_host(host):
        raise ValueError(
            f"must not point at {host}: link-local and cloud metadata addresses are refused"
        )
    return url


# Validated as an http(s) URL, kept as the string the user gave.
WebhookUrl = Annotated[str, AfterValidator(_http_url)]
WebhookFormat = Literal["json", "slack"]
WEBHOOK_FORMAT = (
    'how the webhook is sent: "json" (the task\'s status, signed) or "slack" (a Slack '
    "incoming-webhook message with status, summary, test counts and a link)"
)


def _unicode(value: Any) -> bool:
    """False for text holding a lone surrogate ("\\ud800" in JSON): it cannot be stored."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
    elif isinstance(value, dict):
        return all(_unicode(k) and _unicode(v) for k, v in value.items())
    elif isinstance(value, list):
        return all(_unicode(v) for v in value)
    return True


class RequestBody(BaseModel):
    """A request body: unknown fields and text that is not valid Unicode are refused."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    @field_validator("*", mode="before")
    @classmethod
    def _valid_unicode(cls, value: Any) -> Any:
        if not _unicode(value):
            raise ValueError("must be valid Unicode text; it holds a lone surrogate (\\ud800)")
        return value


class SessionCreate(RequestBody):
    project_path: str | None = Field(
        None, min_length=1, max_length=4096, description="Absolute path of an existing directory"
    )
    repo_url: str | None = Field(
        None,
        min_length=1,
        max_length=4096,
        description="instead of project_path: a git URL (or path) the server clones; each "
        "finished task's branch is pushed back to it",
    )

    @model_validator(mode="after")
    def _one_project(self) -> SessionCreate:
        if (self.project_path is None) == (self.repo_url is None):
            raise ValueError("give exactly one of project_path and repo_url")
        return self

    @field_validator("project_path")
    @classmethod
    def _existing_absolute_dir(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "\x00" in value:
            raise ValueError("project_path must not contain NUL bytes")
        path = Path(value)
        if not path.is_absolute():
            raise ValueError(f"project_path must be an absolute path, got {value!r}")
        if not path.is_dir():
            raise ValueError(f"project_path {value!r} is not an existing directory")
        return os.path.normpath(value)

    @field_validator("repo_url")
    @classmethod
    def _git_url(cls, value: str | None) -> str | None:
        try:
            return None if value is None else check_url(value)
        except WorkspaceError as exc:
            raise ValueError(str(exc)) from None

    isolation: Literal["worktree", "none"] | None = Field(
        None,
        description='"worktree" (default for git repositories): each task in its own git '
        'worktree and branch; "none": tasks run in the project itself, one at a time',
    )
    base_branch: str | None = Field(
        None, min_length=1, max_length=255, description="default: the current branch"
    )
    test_runner: Literal["pytest", "node", "go", "cargo", "command"] | None = Field(
        None, description="how tests run; default: detected from the project's files"
    )
    test_command: str | None = Field(
        None,
        min_length=1,
        max_length=4096,
        description="shell command that runs the tests and writes JUnit XML to $JUNIT_XML",
    )
    model: str | None = Field(None, min_length=1, max_length=128, pattern=MODEL_PATTERN)
    fallback_model: str | None = Field(None, min_length=1, max_length=128, pattern=MODEL_PATTERN)
    webhook_url: WebhookUrl | None = Field(
        None, description="POSTed the task status when a task of this session ends"
    )
    webhook_format: WebhookFormat = Field("json", description=WEBHOOK_FORMAT)
    policy: dict[str, Any] | None = Field(
        None,
        description="additions to the server's permission policy: extra_dirs, allow_rules, "
        "deny_rules (Claude Code rule syntax), allow_git_push, allow_db_destroy",
    )
    review: bool = Field(
        False, description="after the tests pass, a read-only agent reviews the diff"
    )
    trust_project_settings: bool = Field(
        False,
        description="load the project's .claude settings, hooks and .mcp.json (they run code)",
    )
    baseline_failures: Literal["ignore", "block"] = Field(
        "ignore",
        description='tests already failing before a task: "ignore" (reported as pre-existing, '
        'not held against the agent) or "block" (they must pass too)',
    )
    test_network: Literal["loopback", "fetch_domains", "host"] = Field(
        "loopback",
        description='network of the test runs: "loopback" (local connections only), '
        '"fetch_domains" (also the hosts the agent may reach — the policy\'s fetch_domains — '
        'through a filtering proxy) or "host" (the machine\'s whole network)',
    )
    max_budget_usd: float | None = Field(
        None, gt=0, le=10_000,
        description="spend limit per task attempt for this session's tasks (default: "
        "MAX_BUDGET_USD); a task's own max_budget_usd wins",
    )  # fmt: skip
    approvals: Literal["auto", "human"] = Field(
        "auto",
        description='who answers grey-zone calls the policy asks about: "auto" (the simulated '
        'human, as the policy does unattended) or "human" (a person, via /api/v1/approvals; '
        "the agent waits up to APPROVAL_TIMEOUT_SECONDS)",
    )

    test_services: list[str] = Field(
        default_factory=list, max_length=20,
        description='services on this machine\'s loopback the test runs may use without the '
        'host\'s network, e.g. ["127.0.0.1:5432"] for a local database',
    )  # fmt: skip

    @field_validator("policy")
    @classmethod
    def _valid_policy(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else PolicyOptions.from_json(value).to_json()

    @field_validator("test_services")
    @classmethod
    def _loopback_services(cls, value: list[str]) -> list[str]:
        return [f"{s.host}:{s.port}" for s in map(Service.parse, value)]


class SessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, protected_namespaces=())

    id: str
    project_path: str
    repo_url: str | None
    isolation: str
    base_branch: str | None
    test_runner: str | None
    test_command: str | None
    model: str | None
    fallback_model: str | None
    webhook_url: str | None
    webhook_format: str
    policy: dict[str, Any] | None
    trust_project_settings: bool
    review: bool
    baseline_failures: str
    test_network: str
    test_services: list[str]
    max_budget_usd: float | None
    approvals: str
    created_at: datetime
    updated_at: datetime


class TaskCreate(RequestBody):
    session_id: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=100_000)
    model: str | None = Field(
        None, min_length=1, max_length=128, pattern=MODEL_PATTERN,
        description="Claude model for this task (default: the session's, CLAUDE_MODEL, "
        "or the CLI's default)",
    )  # fmt: skip
    fallback_model: str | None = Field(
        None, min_length=1, max_length=128, pattern=MODEL_PATTERN,
        description="model to switch to when the main one is overloaded",
    )  # fmt: skip
    max_iterations: int | None = Field(None, ge=1, le=10_000, description="agent turns allowed")
    max_budget_usd: float | None = Field(
        None, gt=0, le=10_000,
        description="spend limit per attempt (default: the session's, or MAX_BUDGET_USD)",
    )  # fmt: skip
    test_command: str | None = Field(None, min_length=1, max_length=4096)
    priority: int = Field(0, ge=-100, le=100, description="higher runs first")
    webhook_url: WebhookUrl | None = Field(
        None, description="POSTed the task status when it ends (overrides the session's)"
    )
    webhook_format: WebhookFormat | None = Field(
        None, description=WEBHOOK_FORMAT + "; default: the session's"
    )
    review: bool | None = Field(
        None, description="review the diff after the tests pass (default: the session's)"
    )

    @field_validator("description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("description must not be blank")
        if "\x00" in value:
            raise ValueError("description must not contain NUL bytes")
        return value


class MessageCreate(RequestBody):
    content: str = Field(min_length=1, max_length=100_000)

    @field_validator("content")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("content must not be blank")
        return value


class TestSummary(BaseModel):
    total: int
    passed: int  # skipped and expected failures included
    failed: int
    pending: int
    pre_existing: int = Field(description="failing before the task and still not passing")
    fixed: int = Field(description="failing before the task, passing now")
    flaky: int = Field(description="failed in a round, then passed when re-run on their own")


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, protected_namespaces=())

    id: str
    session_id: str
    description: str
    status: TaskStatus
    summary: str | None
    progress: str | None
    error: str | None
    claude_session_id: str | None
    model: str | None
    fallback_model: str | None
    model_costs: dict[str, float] | None
    max_iterations: int | None
    max_budget_usd: float | None
    test_command: str | None
    priority: int
    webhook_url: str | None
    webhook_format: str | None
    review: bool | None
    review_findings: list[dict[str, Any]] | None
    workspace: dict[str, Any] | None
    workspace_removed_at: datetime | None
    attempt: int
    resumes: int
    worker: str | None
    baseline_duration: float | None = Field(
        description="seconds the project's tests took before the agent started"
    )
    round_durations: list[float] | None = Field(description="seconds each test round took")
    iterations: int
    pauses: int
    test_rounds: int
    context_restarts: int = Field(
        description="fresh conversations started because the old one outgrew the context window"
    )
    cost_usd: float
    input_tokens: int
    output_tokens: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    test_summary: TestSummary


class TaskCreated(TaskOut):
    warnings: list[str] = Field(
        description="why the task may not run as hoped: missing or rejected credentials, "
        "a daily budget that is spent"
    )


class TaskStatusOut(BaseModel):
    id: str
    status: TaskStatus
    summary: str | None
    progress: str | None
    test_summary: TestSummary


class InteractionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sequence: int
    role: str
    kind: str
    content: str
    data: dict[str, Any] | None
    created_at: datetime


class TestCaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    type: str
    file_path: str | None
    status: str
    output: str | None
    duration: float | None
    baseline_status: str | None = Field(
        description="its outcome before the task (regression tests): passed, failed, error, "
        "skipped or xfail"
    )
    flaky: bool = Field(description="it failed in a round, then passed when re-run on its own")
    verdict: Literal["regression", "pre_existing", "fixed", "flaky", "new", "ok"] = Field(
        description="regression: passed before the task, not now; pre_existing: failing before "
        "and now; fixed: failing before, passing now; flaky; new: not in the baseline; ok"
    )


class TaskDetail(TaskOut):
    interactions: list[InteractionOut]
    interactions_total: int
    interactions_next: str | None = Field(
        None, description="when interactions were capped: where to page through the rest"
    )
    test_cases: list[TestCaseOut]


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None
    # Read before the page: GET /api/v1/events?after=<this> shows every change since.
    last_event_id: int


class InteractionPage(BaseModel):
    items: list[InteractionOut]
    next_after: int | None


class HealthOut(BaseModel):
    status: str
    database: str
    cli: str
    # "ok: bubblewrap 0.8.0", "unavailable: <why>. SANDBOX=...: <consequence>" or "off: ..."
    sandbox: str
    # "ok: <which>", "missing: <what to do>" or "rejected: <what the API said> … <what to do>"
    credentials: str
