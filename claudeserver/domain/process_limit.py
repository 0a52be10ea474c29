"""A cap on the number of processes of one confined run: a pids control group.

RLIMIT_NPROC (prlimit's --nproc) does not hold for a server running as root, whose
processes the kernel exempts; a fork loop in a test would then take the machine. Where the
server may create control groups (root on most hosts, or a delegated subtree), each run
gets its own pids group with `pids.max`; its processes cannot leave it. Elsewhere the
rlimit is all there is, and it does hold for a server that is not root.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

# cgroup v1's pids hierarchy, or the v2 unified one (where it has the pids controller).
_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup"))


@contextlib.contextmanager
def pids_group(limit: int) -> Iterator[Path | None]:
    """A fresh group allowing `limit` processes, removed afterwards; None where none can
    be made."""
    group = _make(limit)
    try:
        yield group
    finally:
        if group is not None:
            _remove(group)


def enter_command(group: Path) -> list[str]:
    """A prefix that moves the command into `group` before it runs (so nothing it forks
    is ever outside)."""
    return ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(group)]


def _make(limit: int) -> Path | None:
    for root in _ROOTS:
        if not (root / "cgroup.procs").exists() or not os.access(root, os.W_OK):
            continue
        group = root / f"claudeserver-{uuid.uuid4().hex[:12]}"
        try:
            group.mkdir()
            (group / "pids.max").write_text(str(limit))
        except OSError:
            with contextlib.suppress(OSError):
                group.rmdir()
            continue
        return group
    return None


def _remove(group: Path) -> None:
    """The run is over: what is left in its group goes, then the group (a control group
    still holding a process cannot be removed, and would stay behind)."""
    for _ in range(50):
        try:
            pids = (group / "cgroup.procs").read_text().split()
        except OSError:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        with contextlib.suppress(OSError):
            group.rmdir()
            return
        time.sleep(0.02)
