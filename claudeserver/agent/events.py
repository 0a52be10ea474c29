"""Typed events the adapter turns the SDK's messages into; the domain sees only these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AssistantText:
    text: str
    model: str | None = None


@dataclass(frozen=True)
class ToolCall:
    tool_use_id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class ToolOutcome:
    tool_use_id: str
    content: str
    is_error: bool


@dataclass(frozen=True)
class SystemNotice:
    subtype: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TurnResult:
    """The end of one agent turn. `is_error` is the truth; `subtype` may say success anyway."""

    is_error: bool
    subtype: str
    text: str
    session_id: str | None
    # The CLI reports what its process has spent so far, not what this turn cost.
    process_cost_usd: float
    process_model_costs: dict[str, float]
    input_tokens: int
    output_tokens: int
    api_error_status: int | None = None
    errors: tuple[str, ...] = ()


AgentEvent = AssistantText | ToolCall | ToolOutcome | SystemNotice | TurnResult


@dataclass(frozen=True)
class GateDecision:
    allowed: bool
    reason: str


class AgentError(Exception):
    """The agent could not be started or died; `hint` tells the user what to do."""

    def __init__(self, message: str, *, hint: str = "", stderr: str = "") -> None:
        super().__init__(message)
        self.hint = hint
        self.stderr = stderr

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}. {self.hint}" if self.hint else base
