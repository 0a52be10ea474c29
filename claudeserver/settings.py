"""Server settings: one pydantic-settings class, read from the environment and `.env`."""

from __future__ import annotations

import ipaddress
import json
import shutil
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from claudeserver import token_file


def default_cli_command() -> str | None:
    """A logged-in `claude` on PATH wins; otherwise the SDK's bundled CLI is used (None)."""
    return shutil.which("claude")


# Package registries, so installing dependencies into the project works from Bash.
DEFAULT_SANDBOX_DOMAINS = (
    "pypi.org,files.pythonhosted.org,registry.npmjs.org,proxy.golang.org,sum.golang.org,"
    "crates.io,index.crates.io,static.crates.io"
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    database_url: str = "sqlite:///./tasks.db"
    claude_cli_command: str | None = Field(default_factory=default_cli_command)
    claude_model: str | None = None
    max_concurrent_tasks: int = Field(2, ge=1, le=64)
    # Agents and test runs run this much nicer (Unix nice) than the API, which then stays
    # quick however busy they keep the CPU. 0 = the same priority.
    agent_nice: int = Field(10, ge=0, le=19)
    max_iterations: int = Field(20, ge=1, le=10_000)
    max_pauses: int = Field(5, ge=0, le=1_000)
    # What one attempt of a task may spend (USD); a session's or task's max_budget_usd wins.
    max_budget_usd: float = Field(10.0, gt=0, le=10_000)
    # What all tasks together may spend per UTC day; past it, tasks wait as pending until
    # the next day (or a higher cap). Unset = no cap.
    daily_budget_usd: float | None = Field(None, gt=0)
    task_timeout_seconds: float = Field(3600, gt=0)
    test_timeout_seconds: float = Field(600, gt=0)
    # No message from the agent for this long fails the task (API retries count as messages).
    idle_timeout_seconds: float = Field(600, gt=0)
    # The simulated human "thinks" this long while a task shows `paused`.
    human_think_seconds: float = Field(1.0, ge=0, le=300)
    # How long a call held for a person's approval waits before the simulated human
    # answers it as the policy does unattended (the idle timeout does not run meanwhile).
    approval_timeout_seconds: float = Field(900, gt=0, le=86_400)
    # Seed for the simulated human's rhythm; unset = a fresh random seed per task.
    human_seed: int | None = None
    # Where task worktrees and snapshots live; keep it outside your projects.
    workspaces_dir: Path = Field(
        default_factory=lambda: Path.home() / ".claudeserver" / "workspaces"
    )
    # What a task may add to its workspace and private home together (MB), measured after
    # each agent turn and test round; past it the task fails. 0 = no cap.
    workspace_disk_limit_mb: int = Field(10_240, ge=0, le=100_000_000)
    workspace_retention_hours: float = Field(168, gt=0)
    # How often finished workspaces past their retention are looked for.
    workspace_cleanup_seconds: float = Field(600, gt=0)
    git_author_name: str = Field("claudeserver", min_length=1)
    git_author_email: str = Field("claudeserver@localhost", min_length=3)
    # Signs webhook bodies (HMAC-SHA256, header X-Claudeserver-Signature).
    webhook_secret: str = ""
    webhook_attempts: int = Field(5, ge=1, le=20)
    webhook_retry_seconds: float = Field(2.0, ge=0, le=3600)
    # Where people reach the dashboard, e.g. https://claude.example.com (behind a proxy):
    # webhook messages link to tasks there. Unset: http://HOST:PORT.
    public_url: str = ""
    # JSON with server-wide policy defaults: extra_dirs, allow_rules, deny_rules,
    # allow_git_push, allow_db_destroy. Sessions add to them.
    policy_file: Path | None = None
    # Claude Code's Bash sandbox and the confinement of test runs (bubblewrap): "auto" and
    # "required" fail tasks when it cannot run; "off" runs both without it.
    sandbox: Literal["auto", "required", "off"] = "auto"
    # Comma-separated domains sandboxed commands may reach, e.g. pypi.org,github.com;
    # any other host is denied.
    sandbox_allowed_domains: str = DEFAULT_SANDBOX_DOMAINS
    api_tokens: str = ""
    # "token": every API call needs a bearer token, one of API_TOKENS or, when that is
    # empty, the one made at first start and kept in TOKEN_FILE (mode 0600; the client on
    # this machine reads it). "none": no token, allowed only with a loopback HOST.
    auth: Literal["token", "none"] = "token"
    token_file: Path = Field(default_factory=token_file.default_path)
    # Comma-separated host names (besides localhost and loopback addresses) clients use to
    # reach this server, e.g. claude.example.com. Requests naming any other Host are refused,
    # so a web page cannot reach the server through a name of its own (DNS rebinding).
    allowed_hosts: str = ""
    allowed_project_roots: str = ""
    max_request_bytes: int = Field(1_000_000, ge=1024)
    log_level: str = "info"
    # What runs tasks: "local" (in this process) or "procrastinate" (a PostgreSQL job queue
    # served by `claudeserver worker` processes on any machine that reaches the database).
    executor: Literal["local", "procrastinate"] = "local"
    # Queue workers prove they are alive this often; one silent for WORKER_STALLED_SECONDS
    # is taken for dead and its tasks resume on another worker.
    worker_heartbeat_seconds: float = Field(10.0, gt=0, le=3600)
    worker_stalled_seconds: float = Field(30.0, gt=0, le=86_400)

    @field_validator("host")
    @classmethod
    def _host_is_address_or_name(cls, value: str) -> str:
        if not value or any(c.isspace() for c in value):
            raise ValueError("HOST must be an address or host name without spaces")
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, value: str) -> str:
        for name in value.split(","):
            if "/" in name or any(c.isspace() for c in name.strip()):
                raise ValueError(
                    f"ALLOWED_HOSTS lists host names such as claude.example.com, not {name!r}"
                )
        return value

    @field_validator("public_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"PUBLIC_URL must be an http(s) URL like https://host, not {value!r}")
        if parts.query or parts.fragment:
            raise ValueError(f"PUBLIC_URL must have no query or fragment: {value!r}")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL")
        return value

    @field_validator("claude_cli_command")
    @classmethod
    def _cli_exists(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if shutil.which(value) is None and not Path(value).is_file():
            raise ValueError(f"CLAUDE_CLI_COMMAND={value!r} is neither on PATH nor a file")
        return value

    @model_validator(mode="after")
    def _queue_needs_postgresql(self) -> Settings:
        if self.executor == "procrastinate" and not self.database_url.startswith("postgresql"):
            raise ValueError(
                "EXECUTOR=procrastinate needs a PostgreSQL DATABASE_URL "
                f"(postgresql+psycopg://user@host/db), not {self.database_url.split(':')[0]}"
            )
        if self.worker_stalled_seconds <= 2 * self.worker_heartbeat_seconds:
            raise ValueError(
                "WORKER_STALLED_SECONDS must exceed twice WORKER_HEARTBEAT_SECONDS, or live "
                "workers would be taken for dead"
            )
        return self

    @model_validator(mode="after")
    def _no_auth_only_on_loopback(self) -> Settings:
        if self.auth == "none" and self.tokens:
            raise ValueError("AUTH=none and API_TOKENS contradict each other: unset one")
        if self.auth == "none" and not self.binds_loopback:
            raise ValueError(
                f"AUTH=none is allowed only with a loopback HOST, not {self.host}: anyone "
                "who reaches the server could run code on this machine"
            )
        return self

    @model_validator(mode="after")
    def _paths_are_absolute(self) -> Settings:
        if not self.workspaces_dir.is_absolute():
            raise ValueError(f"WORKSPACES_DIR={self.workspaces_dir} must be an absolute path")
        if not self.token_file.is_absolute():
            raise ValueError(f"TOKEN_FILE={self.token_file} must be an absolute path")
        if self.policy_file is not None:  # the policy checks its keys when the app starts
            _require_json_object("POLICY_FILE", self.policy_file)
        for root in self.project_roots:
            if not root.is_absolute():
                raise ValueError(f"ALLOWED_PROJECT_ROOTS entry {root} must be an absolute path")
        return self

    @property
    def sandbox_domains(self) -> list[str]:
        return [d.strip() for d in self.sandbox_allowed_domains.split(",") if d.strip()]

    @property
    def tokens(self) -> list[str]:
        return [t.strip() for t in self.api_tokens.split(",") if t.strip()]

    @property
    def public_hosts(self) -> list[str]:
        return [h.strip() for h in self.allowed_hosts.split(",") if h.strip()]

    @property
    def project_roots(self) -> list[Path]:
        return [Path(p) for p in self.allowed_project_roots.split(":") if p.strip()]

    @property
    def dashboard_url(self) -> str:
        """PUBLIC_URL, else the address the server listens on (for a wildcard HOST, this
        machine's loopback: a link that works here only)."""
        if self.public_url:
            return self.public_url
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def binds_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def _require_json_object(name: str, path: Path) -> None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{name} {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{name} {path}: expected a JSON object")
