"""Assertions several test modules make about a resumed task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from claudeserver.domain.processes import task_pids


def assert_resumed_intact(before: dict[str, Any], after: dict[str, Any], project: Path) -> None:
    """The same conversation went on to the fix, and no stored interaction was lost or doubled."""
    assert after["claude_session_id"] == before["claude_session_id"]
    sequences = [i["sequence"] for i in after["interactions"]]
    assert sequences == list(range(1, len(sequences) + 1))
    assert after["interactions"][: len(before["interactions"])] == before["interactions"]
    assert (project / "mathutil.py").read_text().endswith("a + b\n")
    assert task_pids(after["id"]) == []
