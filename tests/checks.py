"""Checks several test modules make: a resumed task is intact, what `policy check` says."""

from __future__ import annotations

import json
import subprocess
import sys
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


def policy_check(calls: list[dict[str, Any]]) -> list[str]:
    """The decisions of the `claudeserver policy check` command, one per tool call."""
    result = subprocess.run(
        [sys.executable, "-m", "claudeserver", "policy", "check"],
        input="\n".join(json.dumps(x) for x in calls) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(x)["decision"] for x in result.stdout.splitlines()]
