"""Batch policy checking: JSON lines in, one JSON decision line out per input line.

A line is `{"tool": ..., "input": {...}, "project": "/abs/root", "cwd": "/abs/dir"}`:
`project` is the project root the policy protects, `cwd` where the call runs (absolute, or
relative to the project; the project when left out). A line with only `cwd` (the older
form) means the call runs at the project root `cwd`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .engine import decide
from .model import INTERNAL_ERROR, UNPARSEABLE, Decision, PolicyConfig, deny


def run_audit(lines: Iterable[str], *, config_for: Callable[[Path], PolicyConfig]) -> Iterator[str]:
    for line in lines:
        yield json.dumps(_encode(_judge(line, config_for)))


def _encode(decision: Decision) -> dict[str, str]:
    encoded = {
        "decision": "allow" if decision.allowed else "deny",
        "reason": decision.reason,
        "category": decision.category,
    }
    if decision.ask is not None:  # what a session with `approvals: "human"` asks about
        encoded["ask"] = decision.ask.question
    return encoded


def _judge(line: str, config_for: Callable[[Path], PolicyConfig]) -> Decision:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return deny(
            UNPARSEABLE, f"denied: the line is not valid JSON ({exc.msg} at column {exc.colno})"
        )
    if not isinstance(record, dict):
        return deny(UNPARSEABLE, "denied: the line must be a JSON object")
    tool, tool_input = record.get("tool"), record.get("input")
    if not isinstance(tool, str) or not isinstance(tool_input, dict):
        return deny(UNPARSEABLE, 'denied: the line needs a "tool" string and an "input" object')
    project = record.get("project", record.get("cwd"))
    cwd = record.get("cwd", project)
    if not isinstance(project, str) or not project.startswith("/"):
        return deny(UNPARSEABLE, 'denied: the line needs an absolute "project" (or "cwd") path')
    if not isinstance(cwd, str) or not cwd:
        return deny(UNPARSEABLE, 'denied: "cwd" must be a path')
    try:
        config = config_for(Path(project))
    except Exception as exc:  # a broken config must deny, not abort the whole audit
        return deny(INTERNAL_ERROR, f"denied: no policy config for {project} ({exc})")
    return decide(tool, tool_input, config, cwd=Path(project) / cwd)
