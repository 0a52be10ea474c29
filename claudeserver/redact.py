"""Scrubs secrets from anything the server stores or shows."""

from __future__ import annotations

import os
import re
from typing import Any

_PATTERNS = [
    re.compile(r"sk-[A-Za-z0-9_\-]{16,}"),  # Anthropic / OpenAI style keys
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{8,}"),
    re.compile(r"(?i)((?:api[_-]?key|token|secret|password)[\"']?\s*[:=]\s*[\"']?)[^\s\"',]{8,}"),
    re.compile(r"gh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"AKIA[0-9A-Z]{16}"),
]
_SECRET_ENV = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.IGNORECASE)
MASK = "[REDACTED]"


def env_secrets() -> list[str]:
    # Values of secret-looking variables in our environment, e.g. ANTHROPIC_API_KEY.
    return sorted(
        (v for k, v in os.environ.items() if _SECRET_ENV.search(k) and len(v) >= 8),
        key=len,
        reverse=True,
    )


def redact(text: str, secrets: list[str] | None = None) -> str:
    for value in env_secrets() if secrets is None else secrets:
        text = text.replace(value, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
    return text


def redact_data(value: Any, secrets: list[str] | None = None) -> Any:
    # The environment is scanned once per call, not once per string inside `value`.
    secrets = env_secrets() if secrets is None else secrets
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {k: redact_data(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_data(v, secrets) for v in value]
    return value
