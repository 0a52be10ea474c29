"""One change to a repository's worktree bookkeeping at a time.

Tasks of one repository start and end in parallel, and `git worktree prune` run while
another `git worktree add` is still setting up its entry deletes that entry: the add then
fails ("failed to read .git/worktrees/…/commondir"). A file lock in the repository's git
directory holds across threads and processes (several workers on one machine).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from claudeserver.domain.workspace.git import run

LOCK_NAME = "claudeserver-worktrees.flock"


@contextmanager
def worktree_lock(repo: Path) -> Iterator[None]:
    common = Path(run(["rev-parse", "--git-common-dir"], cwd=repo).stdout.strip())
    path = (repo / common if not common.is_absolute() else common) / LOCK_NAME
    # Each open is a lock of its own for flock, so threads of one process wait too.
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
