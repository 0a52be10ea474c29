"""A Server-Sent Events parser for line iterators (httpx's `iter_lines`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SseEvent:
    id: str | None
    event: str
    data: str

    def json(self) -> dict[str, Any]:
        value = json.loads(self.data)
        return value if isinstance(value, dict) else {"value": value}


def parse(lines: Iterable[str]) -> Iterator[SseEvent]:
    """Yield one event per blank-line-terminated block, as the SSE spec dispatches them."""
    event, data, last_id = "message", list[str](), None
    for line in lines:
        if not line:
            if data:
                yield SseEvent(last_id, event, "\n".join(data))
            event, data = "message", []
            continue
        if line.startswith(":"):
            continue  # a comment / keep-alive
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            last_id = value
