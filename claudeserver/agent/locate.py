"""Where the Claude Code CLI lives: the configured command, else the SDK's bundled binary."""

from __future__ import annotations

import os
import shutil
from importlib.util import find_spec
from pathlib import Path


def bundled_cli() -> Path | None:
    # Found without importing the SDK: that import takes seconds, and /health needs none of it.
    spec = find_spec("claude_agent_sdk")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "_bundled" / "claude"
    return path if path.is_file() else None


def cli_status(command: str | None) -> str:
    """'ok: <path>' or 'error: <what to do>'."""
    if command:
        found = shutil.which(command) or command
        if os.access(found, os.X_OK) and Path(found).is_file():
            return f"ok: {found}"
        return f"error: CLAUDE_CLI_COMMAND={command} is not an executable file"
    bundled = bundled_cli()
    if bundled is not None and os.access(bundled, os.X_OK):
        return f"ok: bundled {bundled}"
    return "error: no Claude Code CLI found; install it or set CLAUDE_CLI_COMMAND"
