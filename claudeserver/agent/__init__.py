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
from claudeserver.agent.session_store import DatabaseSessionStore

__all__ = [
    "AgentConfig",
    "AgentError",
    "AgentEvent",
    "AgentSession",
    "AssistantText",
    "DatabaseSessionStore",
    "GateDecision",
    "SystemNotice",
    "ToolCall",
    "ToolOutcome",
    "TurnResult",
]
