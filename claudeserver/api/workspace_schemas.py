"""Response bodies of a task's workspace: its diff's stat and a merge (routes/workspace.py)."""

from __future__ import annotations

from pydantic import BaseModel


class FileStatOut(BaseModel):
    path: str
    added: int | None
    removed: int | None


class DiffStatOut(BaseModel):
    files: list[FileStatOut]


class MergeOut(BaseModel):
    fast_forward: bool
    up_to_date: bool
    commit: str
    base_branch: str
