"""Request and response bodies: the seed README's JSON shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    field_validator,
)

from claudeserver.domain.webhooks import forbidden_host
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
    approvals: Literal["auto", "human"] | None = Field(
        None, description="who answers the calls the policy asks about (default: the session's)"
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
    approvals: str | None
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
