"""A file of a task's workspace as text, read the way its diff sees it."""

from __future__ import annotations

import os
import stat

from claudeserver.domain.workspace.model import Workspace
from claudeserver.domain.workspace.snapshot import BINARY_PROBE_BYTES, MAX_FILE_BYTES


def read_text(ws: Workspace, path: str) -> str | None:
    """The current text of `path` (as the diff names it: below the worktree's top, or the
    project's folder); None when it is absent, binary, too large or not a plain file.

    A symlink is never followed, nor a path leading out of the workspace: the text goes
    into prompts and could otherwise be any file the server can read.
    """
    root = (ws.worktree if ws.kind == "worktree" and ws.worktree else ws.path).resolve()
    target = root / path
    try:
        if not target.resolve().is_relative_to(root) or target.is_symlink():
            return None
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except (OSError, ValueError):
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return None
        content = handle.read(MAX_FILE_BYTES + 1)
    if b"\0" in content[:BINARY_PROBE_BYTES]:
        return None
    return content.decode("utf-8", "replace")
