"""What the domain drives: an agent's configuration, the callbacks it calls back into,
and the conversation every agent offers (`AgentSession` over the CLI, or a test double).

No SDK import here, so a test double needs none either.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from claudeserver.agent.events import AgentEvent, GateDecision

if TYPE_CHECKING:
    from claudeserver.agent.session_store import DatabaseSessionStore

# (tool name, tool input, the directory the call runs in as the CLI reports it, or None)
Gate = Callable[[str, dict[str, Any], Path | None], Awaitable[GateDecision]]
Answerer = Callable[[list[dict[str, Any]]], Awaitable[dict[str, str]]]


@dataclass
class AgentConfig:
    cwd: Path
    cli_path: str | None = None
    model: str | None = None
    fallback_model: str | None = None
    resume: str | None = None
    system_prompt_append: str = ""
    # `ClaudeAgentOptions.sandbox` (see domain/sandbox.py); None runs Bash unsandboxed.
    sandbox: dict[str, Any] | None = None
    extra_dirs: list[Path] = field(default_factory=list)
    max_budget_usd: float | None = None
    env: dict[str, str] = field(default_factory=dict)
    # Project-level settings can run hooks and MCP servers: only when the user trusts them.
    trust_project_settings: bool = False
    # Where the transcript is mirrored and resumed from, besides the CLI's local files.
    session_store: DatabaseSessionStore | None = None
    # How long the CLI waits for the gate's answer to one call: the gate may hold a call
    # while the simulated human thinks, or while it waits for a person's approval.
    gate_timeout_seconds: float = 900


class Agent(Protocol):
    """One conversation. Before each tool call the agent asks the gate; a question it
    asks goes to the answerer."""

    async def send(self, text: str) -> None:
        """Queue a user message; mid-turn it reaches the agent at its next step."""

    def turn(self) -> AsyncIterator[AgentEvent]:
        """Events of the current turn, ending with its `TurnResult`."""
        ...


# Called with the configuration and callbacks; `async with` it for the conversation.
AgentFactory = Callable[[AgentConfig, Gate, Answerer], AbstractAsyncContextManager[Agent]]
