"""The two errors the workspace module raises; the API maps them to HTTP responses."""

from __future__ import annotations


class WorkspaceError(Exception):
    """A git or file system operation on a workspace failed; the message is for the user."""


class MergeConflict(WorkspaceError):
    """The task's branch does not merge cleanly; nothing was changed."""

    def __init__(self, files: list[str], *, branch: str, base: str) -> None:
        self.files = files
        listed = ", ".join(files) if files else "(git named no files)"
        super().__init__(
            f"Merging {branch} into {base} conflicts in {listed}; {base} was left unchanged"
        )
