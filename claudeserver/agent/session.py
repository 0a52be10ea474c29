"""One Claude Code conversation per task, driven through `ClaudeSDKClient`."""

from __future__ import annotations

import collections
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

from claude_agent_sdk import (
    AssistantMessage,
    ClaudeAgentOptions,
    ClaudeSDKClient,
    ClaudeSDKError,
    CLINotFoundError,
    HookContext,
    HookInput,
    HookMatcher,
    PermissionResultAllow,
    PermissionResultDeny,
    ResultMessage,
    SessionStore,
    SystemMessage,
    TextBlock,
    ToolPermissionContext,
    ToolResultBlock,
    ToolUseBlock,
    UserMessage,
)
from claude_agent_sdk.types import SandboxSettings, SyncHookJSONOutput

from claudeserver.agent.events import (
    AgentError,
    AgentEvent,
    AssistantText,
    SystemNotice,
    ToolCall,
    ToolOutcome,
    TurnResult,
)
from claudeserver.agent.protocol import AgentConfig, Answerer, Gate

# What the CLI asks can_use_tool when a sandboxed command reaches a host not allowlisted.
SANDBOX_NETWORK = "SandboxNetworkAccess"


class AgentSession:
    """`async with AgentSession(config, gate, answer):` then `send()` and `turn()` (the
    `Agent` of agent/protocol.py)."""

    def __init__(self, config: AgentConfig, gate: Gate, answer_questions: Answerer) -> None:
        self._config = config
        self._gate = gate
        self._answer_questions = answer_questions
        self._stderr: collections.deque[str] = collections.deque(maxlen=50)
        self._client: ClaudeSDKClient | None = None
        self.session_id: str | None = config.resume

    async def __aenter__(self) -> AgentSession:
        self._client = ClaudeSDKClient(self._options())
        try:
            await self._client.connect()
        except CLINotFoundError as exc:
            raise AgentError(
                f"Claude Code CLI not found ({exc})",
                hint="Install it or set CLAUDE_CLI_COMMAND to its path",
            ) from exc
        except ClaudeSDKError as exc:
            raise self._error("Claude Code CLI failed to start", exc) from exc
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):  # the process is going away either way
                await self._client.disconnect()
            self._client = None

    async def send(self, text: str) -> None:
        """Queue a user message; mid-turn it reaches the agent at its next step."""
        assert self._client is not None
        try:
            await self._client.query(text)
        except ClaudeSDKError as exc:
            raise self._error("could not send a message to Claude Code", exc) from exc

    async def interrupt(self) -> None:
        if self._client is not None:
            await self._client.interrupt()

    async def turn(self) -> AsyncIterator[AgentEvent]:
        """Events of the current turn, ending with its `TurnResult`."""
        assert self._client is not None
        try:
            async for message in self._client.receive_response():
                for event in self._translate(message):
                    yield event
        except ClaudeSDKError as exc:
            raise self._error("Claude Code stopped unexpectedly", exc) from exc

    def _translate(self, message: Any) -> list[AgentEvent]:
        if isinstance(message, AssistantMessage):
            events: list[AgentEvent] = []
            for block in message.content:
                if isinstance(block, TextBlock) and block.text.strip():
                    events.append(AssistantText(block.text, message.model))
                elif isinstance(block, ToolUseBlock):
                    events.append(ToolCall(block.id, block.name, dict(block.input)))
            return events
        if isinstance(message, UserMessage) and isinstance(message.content, list):
            return [
                ToolOutcome(b.tool_use_id, _text(b.content), bool(b.is_error))
                for b in message.content
                if isinstance(b, ToolResultBlock)
            ]
        if isinstance(message, SystemMessage):
            if message.subtype == "init":
                self.session_id = message.data.get("session_id", self.session_id)
            return [SystemNotice(message.subtype, dict(message.data))]
        if isinstance(message, ResultMessage):
            self.session_id = message.session_id or self.session_id
            usage = message.usage or {}
            return [
                TurnResult(
                    is_error=message.is_error,
                    subtype=message.subtype,
                    text=message.result or "",
                    session_id=message.session_id,
                    process_cost_usd=message.total_cost_usd or 0.0,
                    process_model_costs={
                        name: float(usage.get("costUSD") or 0.0)
                        for name, usage in (message.model_usage or {}).items()
                    },
                    input_tokens=int(usage.get("input_tokens") or 0),
                    output_tokens=int(usage.get("output_tokens") or 0),
                    api_error_status=message.api_error_status,
                    errors=tuple(message.errors or ()),
                )
            ]
        return []

    def _options(self) -> ClaudeAgentOptions:
        config = self._config
        return ClaudeAgentOptions(
            cwd=str(config.cwd),
            cli_path=config.cli_path,
            model=config.model,
            fallback_model=config.fallback_model,
            resume=config.resume,
            add_dirs=[str(d) for d in config.extra_dirs],
            max_budget_usd=config.max_budget_usd,
            env=config.env,
            setting_sources=["project", "local"] if config.trust_project_settings else [],
            system_prompt={
                "type": "preset",
                "preset": "claude_code",
                "append": config.system_prompt_append,
            },
            hooks={
                "PreToolUse": [
                    HookMatcher(
                        matcher=None,
                        hooks=[self._pre_tool_use],
                        timeout=config.gate_timeout_seconds,
                        on_failure="block",
                    )
                ]
            },
            can_use_tool=self._can_use_tool,
            sandbox=cast("SandboxSettings | None", config.sandbox),
            # Only partly a `SessionStore` (see DatabaseSessionStore); the SDK allows that.
            session_store=cast("SessionStore | None", config.session_store),
            # Each line as soon as it is written, not once per turn: a worker that dies
            # mid-turn would otherwise lose the turn from the conversation it hands over.
            session_store_flush="eager",
            stderr=self._stderr.append,
        )

    async def _pre_tool_use(
        self, hook_input: HookInput, _tool_use_id: str | None, _context: HookContext
    ) -> SyncHookJSONOutput:
        fields: dict[str, Any] = dict(hook_input)
        tool_name = str(fields.get("tool_name", ""))
        if tool_name == "AskUserQuestion":
            return {}  # no opinion: the CLI asks can_use_tool, which answers the question
        # Bash keeps its working directory between calls (`cd tests`, then `rm x`): the
        # hook's `cwd` is where this call really runs.
        cwd = fields.get("cwd")
        where = Path(cwd) if isinstance(cwd, str) and cwd.startswith("/") else None
        decision = await self._gate(tool_name, dict(fields.get("tool_input") or {}), where)
        return {
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "allow" if decision.allowed else "deny",
                "permissionDecisionReason": decision.reason,
            }
        }

    async def _can_use_tool(
        self, tool_name: str, tool_input: dict[str, Any], _context: ToolPermissionContext
    ) -> PermissionResultAllow | PermissionResultDeny:
        if tool_name == "AskUserQuestion":
            questions = list(tool_input.get("questions") or [])
            answers = await self._answer_questions(questions)
            return PermissionResultAllow(updated_input={"questions": questions, "answers": answers})
        if tool_name == SANDBOX_NETWORK:
            # The sandbox asks only for hosts outside its allowedDomains.
            host = tool_input.get("host", "?")
            return PermissionResultDeny(
                message=f"denied: sandboxed commands may not reach {host}; it is not in "
                "SANDBOX_ALLOWED_DOMAINS"
            )
        decision = await self._gate(tool_name, tool_input, None)
        if decision.allowed:
            return PermissionResultAllow()
        return PermissionResultDeny(message=decision.reason)

    def _error(self, message: str, exc: BaseException) -> AgentError:
        stderr = "\n".join(self._stderr)
        return AgentError(f"{message}: {exc}", stderr=stderr)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return "" if content is None else str(content)
