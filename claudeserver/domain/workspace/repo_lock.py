"""One change to a repository's worktree bookkeeping at a time.

Tasks of one repository start and end in parallel, and `git worktree prune` run while
another `git worktree add` is still setting up its entry deletes that entry: the add then
fails ("failed to read .git/worktrees/…/commondir"). A file lock in the repository's git
directory holds across threads and processes (several workers on one machine).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from claudeserver.domain.workspace.errors import WorkspaceError
from claudeserver.domain.workspace.git import run

LOCK_NAME = "claudeserver-worktrees.flock"


@contextmanager
def worktree_lock(repo: Path) -> Iterator[None]:
    common = Path(run(["rev-parse", "--git-common-dir"], cwd=repo).stdout.strip())
    path = (repo / common if not common.is_absolute() else common) / LOCK_NAME
    # Never through a symlink: one planted there would have the server create a file
    # wherever it points.
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        raise WorkspaceError(f"cannot use the lock file {path}: {exc.strerror}") from None
    # Each open is a lock of its own for flock, so threads of one process wait too.
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
