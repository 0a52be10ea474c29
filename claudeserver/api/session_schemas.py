"""Request and response bodies of sessions (routes/sessions.py)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from claudeserver.api.schemas import (
    MODEL_PATTERN,
    WEBHOOK_FORMAT,
    RequestBody,
    WebhookFormat,
    WebhookUrl,
)
from claudeserver.domain.service_bridge import Service
from claudeserver.domain.workspace import WorkspaceError
from claudeserver.domain.workspace.remote import check_url
from claudeserver.policy import PolicyOptions


class SessionOptions(RequestBody):
    """What a session's tasks inherit; each may be changed later (PATCH)."""

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


class SessionCreate(SessionOptions):
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


class SessionUpdate(SessionOptions):
    """Only the fields given change; the project and how tasks are isolated stay."""


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
