"""Whether the agent has credentials for the model API, judged without calling it.

Cheap enough for every /health: which credential variables the server's environment has,
whether the CLI has a stored login, and whether a task saw the API refuse these very
credentials. Values never leave this module; a rejection is keyed by a digest of them, so
it stops applying once they change.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session as DB

from claudeserver.persistence import credential_rejections
from claudeserver.redact import redact

# Each is enough on its own for the Claude Code CLI.
KEY_VARIABLES = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN")
GATEWAY_VARIABLE = "ANTHROPIC_BASE_URL"
PROVIDER_SWITCHES = ("CLAUDE_CODE_USE_BEDROCK", "CLAUDE_CODE_USE_VERTEX", "CLAUDE_CODE_USE_FOUNDRY")
# What the CLI answers when it has no credentials or the API refused them.
_REFUSED = re.compile(
    r"not logged in|invalid api key|please run /login|oauth token (has expired|revoked)|"
    r"authentication_error|invalid x-api-key",
    re.IGNORECASE,
)

OK, MISSING, REJECTED = "ok", "missing", "rejected"


def advice(cli_command: str | None) -> str:
    cli = (
        f"CLAUDE_CLI_COMMAND={cli_command}"
        if cli_command
        else "CLAUDE_CLI_COMMAND is unset: the CLI bundled with claude-agent-sdk"
    )
    return (
        "Set ANTHROPIC_API_KEY in the server's environment, log in the CLI it runs "
        f"({cli}) with `{cli_command or 'claude'} auth login`, or point ANTHROPIC_BASE_URL at "
        "a gateway; then retry the task (after changing the server's environment, restart it)"
    )


def is_refusal(status: int | None, text: str) -> bool:
    """The API (or the CLI before calling it) refused for want of valid credentials."""
    return status in (401, 403) or bool(_REFUSED.search(text))


def login_file(env: Mapping[str, str] = os.environ) -> Path:
    """Where the CLI stores a `claude auth login` (Linux and Windows; macOS: the keychain)."""
    config = env.get("CLAUDE_CONFIG_DIR") or str(Path.home() / ".claude")
    return Path(config) / ".credentials.json"


def source(env: Mapping[str, str] = os.environ) -> str | None:
    """What the CLI would authenticate with, named (never shown), or None."""
    for name in KEY_VARIABLES:
        if env.get(name):
            return name
    if env.get(GATEWAY_VARIABLE):
        return f"{GATEWAY_VARIABLE} (a gateway)"
    for name in PROVIDER_SWITCHES:
        if env.get(name, "").lower() in ("1", "true"):
            return f"{name} (a cloud provider)"
    if login_file(env).is_file():
        return "the CLI's stored login"
    if sys.platform == "darwin":  # the login is in the keychain, which is not looked at
        return "the CLI's login in the macOS keychain, if any (not checked)"
    return None


def fingerprint(env: Mapping[str, str] = os.environ) -> str:
    """A digest of the credentials in effect: changes when any of them does."""
    names = (*KEY_VARIABLES, GATEWAY_VARIABLE, *PROVIDER_SWITCHES)
    parts = [f"{name}={env.get(name, '')}" for name in names]
    try:
        parts.append(f"login={login_file(env).stat().st_mtime_ns}")
    except OSError:
        parts.append("login=")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def status(db: DB | None, *, cli_command: str | None) -> str:
    """'ok: <source>', 'missing: <advice>' or 'rejected: <what the API said> … <advice>'.

    Without a database that can be read (None, down, not migrated yet) rejections are not
    known; the rest is.
    """
    rejection = None
    if db is not None:
        try:
            rejection = credential_rejections.credential_rejection(db, fingerprint=fingerprint())
        except SQLAlchemyError:
            db.rollback()
    if rejection is not None:
        when = rejection.created_at.strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"{REJECTED}: {rejection.message} (task {rejection.task_id}, {when}). "
            f"{advice(cli_command)}"
        )
    found = source()
    if found is not None:
        return f"{OK}: {found}"
    return (
        f"{MISSING}: no ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN, ANTHROPIC_BASE_URL or stored "
        f"CLI login. {advice(cli_command)}"
    )


def record_refusal(db: DB, *, task_id: str, message: str) -> None:
    credential_rejections.record_credential_rejection(
        db, fingerprint=fingerprint(), task_id=task_id, message=redact(message)[:500]
    )


def accepted(db: DB) -> None:
    """A task finished with these credentials: an earlier refusal was not their fault."""
    credential_rejections.clear_credential_rejection(db, fingerprint=fingerprint())
