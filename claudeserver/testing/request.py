"""One request the CLI sent to the fake Messages API, and how to read its conversation.

Its own module so that the fake server and the scripts that answer requests both build on
it without importing each other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_CWD = re.compile(r"Primary working directory: (\S+)")
# How Claude Code asks the model to summarise a conversation it compacts.
_COMPACTION = "create a detailed summary of the conversation so far"


@dataclass
class ModelRequest:
    """One call the CLI made, with helpers to read the conversation it carries."""

    path: str
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages") or [])

    @property
    def system_text(self) -> str:
        system = self.body.get("system") or ""
        if isinstance(system, str):
            return system
        return "\n".join(b.get("text", "") for b in system if isinstance(b, dict))

    @property
    def cwd(self) -> str:
        match = _CWD.search(self.system_text) or _CWD.search(self.conversation_text)
        return match.group(1) if match else "."

    @property
    def is_main_loop(self) -> bool:
        """Side calls (titles, summaries) offer no tools; the agent loop always does."""
        return bool(self.body.get("tools"))

    @property
    def is_compaction(self) -> bool:
        """Claude Code asks for a summary to compact the conversation (a tool-less answer)."""
        texts = list(self.user_texts())
        return bool(texts) and _COMPACTION in texts[-1][1]

    def user_texts(self) -> Iterator[tuple[int, str]]:
        """(message index, text) of every user message that carries text, oldest first."""
        for index, message in enumerate(self.messages):
            if message.get("role") == "user":
                text = _text_of(message.get("content"))
                if text:
                    yield index, text

    @property
    def conversation_text(self) -> str:
        return "\n".join(_text_of(m.get("content")) for m in self.messages)

    def tool_results_since(self, index: int) -> list[dict[str, Any]]:
        results = []
        for message in self.messages[index + 1 :]:
            content = message.get("content")
            if message.get("role") == "user" and isinstance(content, list):
                results += [b for b in content if b.get("type") == "tool_result"]
        return results

    def tool_uses_since(self, index: int) -> int:
        count = 0
        for message in self.messages[index + 1 :]:
            content = message.get("content")
            if message.get("role") == "assistant" and isinstance(content, list):
                count += sum(1 for b in content if b.get("type") == "tool_use")
        return count


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text"
        )
    return ""
