"""The agent adapter: the only package that imports claude-agent-sdk."""

from claudeserver.agent.events import (
    AgentError,
    AgentEvent,
    AssistantText,
    GateDecision,
    SystemNotice,
    ToolCall,
    ToolOutcome,
    TurnResult,
)
from claudeserver.agent.session import AgentConfig, AgentSession

__all__ = [
    "AgentConfig",
    "AgentError",
    "AgentEvent",
    "AgentSession",
    "AssistantText",
    "GateDecision",
    "SystemNotice",
    "ToolCall",
    "ToolOutcome",
    "TurnResult",
]
