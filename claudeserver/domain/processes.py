"""Finding and killing a task's processes by the marker in their environment.

The agent CLI and test runs get CLAUDESERVER_TASK_ID in their environment and pass it
to every child, so a task's whole process tree can be found even after our own
process restarted and lost its handles.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

MARKER = "CLAUDESERVER_TASK_ID"


def task_env(task_id: str) -> dict[str, str]:
    return {MARKER: task_id}


def task_pids(task_id: str) -> list[int]:
    needle = f"{MARKER}={task_id}".encode()
    me = os.getpid()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue  # gone, or not ours to read
        if needle in environ.split(b"\0"):
            pids.append(int(entry.name))
    return pids


def kill_task_processes(task_id: str) -> int:
    """SIGKILL every process carrying the task's marker; returns how many were signalled."""
    if not Path("/proc").is_dir():
        return 0
    killed = 0
    for pid in task_pids(task_id):
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except (ProcessLookupError, PermissionError):
            pass
    return killed
