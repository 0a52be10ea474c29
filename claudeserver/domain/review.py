"""The optional code review: a read-only agent pass over the task's diff, and its findings."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

SEVERITIES = ("info", "warning", "error")
READ_ONLY_TOOLS = frozenset({"Read", "Grep", "Glob", "LS", "TodoWrite"})
MAX_DIFF_CHARS = 60_000
_ARRAY = re.compile(r"\[.*\]", re.DOTALL)


@dataclass(frozen=True)
class Finding:
    severity: str
    file: str | None
    line: int | None
    comment: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def review_prompt(description: str, diff: str) -> str:
    shown = diff if len(diff) <= MAX_DIFF_CHARS else diff[:MAX_DIFF_CHARS] + "\n[diff truncated]"
    return (
        "Review this change as a careful senior engineer. You may read files but not change "
        "anything.\n\n"
        f"## Task it implements\n{description}\n\n## Diff\n```diff\n{shown}\n```\n\n"
        "Answer with ONLY a JSON array of findings, each "
        '{"severity": "info"|"warning"|"error", "file": "path", "line": 12, "comment": "..."}. '
        "Answer [] when you find nothing worth mentioning."
    )


def parse_findings(text: str) -> list[Finding]:
    """Findings from the reviewer's answer; tolerant of prose around the JSON array.

    An answer with no usable JSON becomes one `info` finding carrying the text, so a
    review is never silently lost.
    """
    match = _ARRAY.search(text)
    try:
        items = json.loads(match.group(0)) if match else None
    except ValueError:
        items = None
    if not isinstance(items, list):
        return [Finding("info", None, None, text.strip())] if text.strip() else []
    findings = []
    for item in items:
        if not isinstance(item, dict) or not str(item.get("comment") or "").strip():
            continue
        severity = str(item.get("severity", "info")).lower()
        line = item.get("line")
        findings.append(
            Finding(
                severity=severity if severity in SEVERITIES else "info",
                file=str(item["file"]) if item.get("file") else None,
                line=line if isinstance(line, int) and line > 0 else None,
                comment=str(item["comment"]).strip(),
            )
        )
    return findings
