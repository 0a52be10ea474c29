"""Test doubles shipped with the package: a scripted fake of the Anthropic Messages API.

Point the real Claude Code CLI at it (`FakeAnthropic.env()`) to test code that drives
the agent without a network or an API key.
"""

from claudeserver.testing.fake_anthropic import FakeAnthropic
from claudeserver.testing.request import ModelRequest
from claudeserver.testing.script import (
    INVALID_API_KEY,
    PROMPT_TOO_LONG,
    ApiError,
    Reply,
    Rule,
    ScriptedModel,
    Stall,
    Text,
    ToolUse,
)

__all__ = [
    "INVALID_API_KEY",
    "PROMPT_TOO_LONG",
    "ApiError",
    "FakeAnthropic",
    "ModelRequest",
    "Reply",
    "Rule",
    "ScriptedModel",
    "Stall",
    "Text",
    "ToolUse",
]
