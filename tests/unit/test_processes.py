"""Stopping a task's processes: found by their marker, asked to exit, then killed."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from claudeserver.domain.processes import KILL_GRACE_SECONDS, kill_task_processes, task_env


def _start(script: str, task_id: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        ["bash", "-c", script], env={"PATH": "/usr/bin:/bin", **task_env(task_id)}
    )
    time.sleep(0.3)  # its traps are set
    return process


def test_a_shell_runs_its_exit_trap_and_one_ignoring_sigterm_is_killed(tmp_path: Path) -> None:
    # A lock released in an EXIT trap, as pyenv's rehash does: killed outright, the lock
    # stays and every later login shell waits for it.
    lock = tmp_path / "lock"
    polite = _start(f"touch {lock}; trap 'rm -f {lock}' EXIT; sleep 30", "task-a")
    stubborn = _start("trap '' TERM; sleep 30 & wait; sleep 30", "task-a")
    other = _start("sleep 30", "task-b")
    assert lock.exists()

    started = time.monotonic()
    assert kill_task_processes("task-a") >= 2
    assert time.monotonic() - started < KILL_GRACE_SECONDS + 1

    assert polite.wait(timeout=5) != 0 and not lock.exists()
    assert stubborn.wait(timeout=5) == -9
    assert other.poll() is None  # another task's process is left alone
    other.kill()
    other.wait()
