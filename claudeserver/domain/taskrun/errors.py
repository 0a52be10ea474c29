"""How a task run ends early, and what it tells the user about an agent's error."""

from __future__ import annotations

from claudeserver.agent.events import TurnResult
from claudeserver.domain import credentials


class TaskFailure(Exception):
    """Ends the task as failed; the message is the summary a user reads."""


class ContextFull(Exception):
    """The conversation no longer fits the context window: go on in a fresh one."""

    def __init__(self, *, prompt: str, phase: str) -> None:
        super().__init__("the conversation no longer fits the context window")
        self.prompt = prompt  # what the turn that ran out was answering
        self.phase = phase


def describe_error(result: TurnResult, *, cli_command: str | None = None) -> str:
    text = result.text or "; ".join(result.errors) or result.subtype
    status = result.api_error_status
    if status in (529, 503) or "overloaded" in text.lower():
        return f"Claude API overloaded (HTTP {status or 529}): {text}"
    if credentials.is_refusal(status, text):
        what = (
            f"Claude API rejected the credentials (HTTP {status})"
            if status
            else "Claude Code has no credentials"
        )
        return f"{what}: {text}. {credentials.advice(cli_command)}"
    if status:
        return f"Claude API error (HTTP {status}): {text}"
    return f"Claude Code reported an error: {text}"
