"""Finding and killing a task's processes by the marker in their environment.

The agent CLI and test runs get CLAUDESERVER_TASK_ID in their environment and pass it
to every child, so a task's whole process tree can be found even after our own
process restarted and lost its handles.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

MARKER = "CLAUDESERVER_TASK_ID"
# How long a stopped task's processes get to exit on SIGTERM before SIGKILL.
KILL_GRACE_SECONDS = 0.3


def yield_cpu(niceness: int) -> None:
    """Make the calling thread, and every thread and process it starts from now on,
    `niceness` steps nicer: agents and test runs then leave the CPU to the API first.

    Linux keeps a nice value per thread and children inherit their creator's, so calling
    this on the worker's thread leaves the API's threads at full priority.
    """
    if niceness <= 0 or sys.platform != "linux":
        return
    thread = threading.get_native_id()
    try:
        now = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, now + niceness))
    except OSError as exc:
        log.warning("could not lower the agents' CPU priority (AGENT_NICE): %s", exc)


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
    """Stop every process carrying the task's marker: SIGTERM, then SIGKILL what is left
    after a moment; returns how many were signalled.

    The moment lets shells run their exit traps. Claude Code sources the operator's
    login shell when it starts; killed outright in there, pyenv's `rehash` leaves its lock
    behind, and every later login shell on the machine (each new CLI's included) then
    waits for it until it gives up.
    """
    if not Path("/proc").is_dir():
        return 0
    pids = _signal(task_pids(task_id), signal.SIGTERM)
    deadline = time.monotonic() + KILL_GRACE_SECONDS
    while (left := [pid for pid in pids if _running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.01)
    _signal(left, signal.SIGKILL)
    return len(pids)


def _signal(pids: list[int], sig: signal.Signals) -> list[int]:
    sent = []
    for pid in pids:
        try:
            os.kill(pid, sig)
            sent.append(pid)
        except (ProcessLookupError, PermissionError):
            pass
    return sent


def _running(pid: int) -> bool:
    """Not gone and not a zombie waiting to be reaped."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"
