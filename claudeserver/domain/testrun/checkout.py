"""A task's worktree and the user's checkout it was made from: which path is whose.

A worktree task's project is the same sub-folder of the worktree as the user's project is of
the checkout. Paths that projects record into the checkout (installed workspace packages,
Go `replace` and Cargo `path` dependencies) have counterparts in the worktree, which hold
the task's code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Counterparts:
    worktree: Path  # the repository's top in the worktree
    checkout: Path  # the repository's top in the user's checkout

    def in_worktree(self, path: Path) -> Path | None:
        """The worktree's counterpart of a path inside the checkout (None for any other)."""
        try:
            return self.worktree / Path(os.path.normpath(path)).relative_to(self.checkout)
        except ValueError:
            return None

    def in_checkout(self, path: Path) -> Path | None:
        try:
            return self.checkout / Path(os.path.normpath(path)).relative_to(self.worktree)
        except ValueError:
            return None


def counterparts(project: Path, checkout: Path | None) -> Counterparts | None:
    """None when the project is not a worktree of `checkout` (it is the checkout itself)."""
    if checkout is None:
        return None
    project, checkout = project.resolve(), checkout.resolve()
    if project == checkout:
        return None
    top = next((d for d in (project, *project.parents) if (d / ".git").exists()), project)
    prefix = project.parts[len(top.parts) :]
    if not prefix:
        return Counterparts(project, checkout)
    if checkout.parts[-len(prefix) :] != prefix:
        return Counterparts(project, checkout)
    return Counterparts(top, Path(*checkout.parts[: -len(prefix)]))
