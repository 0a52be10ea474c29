"""What a task's workspace is, as stored with the task, and what diff and merge report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["worktree", "snapshot"]


@dataclass(frozen=True)
class Workspace:
    """Where a task works and what its changes are measured against.

    worktree: `worktree` is the top of a `git worktree` on `branch`, started at `base_commit`
    of `base_branch`; `path` is the same folder, or the project's sub-folder inside it when the
    project is a folder below the repository's top.
    snapshot: the agent works in the project itself (`path`); `snapshot` holds a copy taken
    when the task started.
    """

    kind: Kind
    path: Path
    worktree: Path | None = None
    branch: str | None = None
    base_branch: str | None = None
    base_commit: str | None = None
    snapshot: Path | None = None

    def to_json(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "path": str(self.path),
            "worktree": _str(self.worktree),
            "branch": self.branch,
            "base_branch": self.base_branch,
            "base_commit": self.base_commit,
            "snapshot": _str(self.snapshot),
        }

    @classmethod
    def from_json(cls, data: dict[str, str | None]) -> Workspace:
        path = data.get("path")
        if data.get("kind") not in ("worktree", "snapshot") or path is None:
            raise ValueError(f"not a stored workspace: {data!r}")
        return cls(
            kind="worktree" if data["kind"] == "worktree" else "snapshot",
            path=Path(path),
            worktree=_path(data.get("worktree")),
            branch=data.get("branch"),
            base_branch=data.get("base_branch"),
            base_commit=data.get("base_commit"),
            snapshot=_path(data.get("snapshot")),
        )


@dataclass(frozen=True)
class FileStat:
    path: str
    added: int | None  # None for binary (and, in snapshots, oversized) files
    removed: int | None


@dataclass(frozen=True)
class MergeResult:
    fast_forward: bool
    commit: str  # the base branch's tip after the merge
    up_to_date: bool = False  # the base branch already contained the task's branch


def _str(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _path(text: str | None) -> Path | None:
    return None if text is None else Path(text)
