"""What the fake model answers, and a small rule-based script to decide it.

A `ScriptedModel` keeps no state of its own: it reads the conversation in each
request, finds the newest user prompt that one of its rules answers, counts the
tool calls made since, and plays that rule's next step. Retries, resumed sessions
and interjected messages therefore never confuse it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from claudeserver.testing.request import ModelRequest


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class ToolUse:
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    blocks: Sequence[Text | ToolUse]
    input_tokens: int = 100
    output_tokens: int = 20
    chunk_delay: float = 0.0


@dataclass(frozen=True)
class ApiError:
    status: int = 529
    kind: str = "overloaded_error"
    message: str = "Overloaded"

    def body(self) -> dict[str, Any]:
        return {"type": "error", "error": {"type": self.kind, "message": self.message}}


# What the API answers a request over the context window, and one with a bad API key.
PROMPT_TOO_LONG = ApiError(
    400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"
)
INVALID_API_KEY = ApiError(401, "authentication_error", "invalid x-api-key")
COMPACT_SUMMARY = Reply(
    [Text("<analysis>Scripted.</analysis>\n<summary>The conversation so far.</summary>")]
)


@dataclass(frozen=True)
class Stall:
    """Wait `seconds` (released early when the server stops), then answer `then`."""

    seconds: float
    then: Reply | ApiError = field(default_factory=lambda: Reply([Text("Done.")]))


Step = Callable[["ModelRequest"], "Reply | ApiError | Stall"] | Reply | ApiError | Stall


@dataclass
class Rule:
    """When the newest matching prompt contains `when`, play `steps` in order, then `done`."""

    when: str
    steps: Sequence[Step] = ()
    done: str = "Done."


@dataclass
class ScriptedModel:
    """Rules for the agent's prompts; `compaction` answers Claude Code's requests to
    summarise the conversation (e.g. PROMPT_TOO_LONG: a conversation too long to compact)."""

    rules: Sequence[Rule]
    fallback: str = "I have nothing more to do."
    compaction: Reply | ApiError = COMPACT_SUMMARY

    def __call__(self, request: ModelRequest) -> Reply | ApiError | Stall:
        if request.is_compaction:
            return self.compaction
        for index, text in reversed(list(request.user_texts())):
            rule = self._rule_for(text)
            if rule is None:
                continue
            step = request.tool_uses_since(index)
            if step >= len(rule.steps):
                return Reply([Text(rule.done)])
            answer = rule.steps[step]
            return answer(request) if callable(answer) else answer
        return Reply([Text(self.fallback)])

    def _rule_for(self, text: str) -> Rule | None:
        # The newest rule added for a phrase wins, so scripts can override earlier rules.
        for rule in reversed(self.rules):
            if rule.when in text:
                return rule
        return None


def write(path: str, content: str) -> Step:
    """A Write tool call; a relative `path` is taken from the working directory the CLI reports."""

    def step(request: ModelRequest) -> Reply:
        target = path if path.startswith("/") else f"{request.cwd}/{path}"
        return Reply([ToolUse("Write", {"file_path": target, "content": content})])

    return step


def bash(command: str, description: str = "run a command") -> Reply:
    return Reply([ToolUse("Bash", {"command": command, "description": description})])
