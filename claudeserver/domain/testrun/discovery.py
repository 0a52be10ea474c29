"""Which test files the agent created or changed: compared against a snapshot from the start."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

# Directories that never hold the project's own tests and can be huge.
SKIP_DIRS = frozenset(
    {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache", "build", "dist"}
)


@dataclass(frozen=True)
class TestFileSnapshot:
    __test__ = False

    digests: dict[str, str]  # relative path -> sha256

    @classmethod
    def take(cls, root: Path, patterns: tuple[str, ...]) -> TestFileSnapshot:
        return cls({path: _digest(root / path) for path in find_files(root, patterns)})

    def changed_since(self, earlier: TestFileSnapshot) -> list[str]:
        """Files that are new or whose content differs from `earlier`."""
        return sorted(p for p, d in self.digests.items() if earlier.digests.get(p) != d)


def find_files(root: Path, patterns: tuple[str, ...]) -> list[str]:
    """Relative paths of files matching a pattern: by name, or by relative path if it has '/'."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")]
        for filename in filenames:
            relative = Path(dirpath, filename).relative_to(root).as_posix()
            if any(fnmatch(relative if "/" in p else filename, p) for p in patterns):
                found.append(relative)
    return sorted(found)


def without_overlaps(targets: list[str]) -> list[str]:
    """`targets` (paths relative to the project, or test ids `path::…`) without duplicates and
    without those inside another target: test runners given a directory and a file in it do
    not run both (pytest 8 then collects only the file)."""
    kept: list[str] = []
    paths: list[PurePosixPath] = []
    for target in sorted(set(targets), key=lambda t: (_path(t).parts, t)):
        path = _path(target)
        if not any(path == p or p in path.parents for p in paths):
            kept.append(target)
            if "::" not in target:
                paths.append(path)
    return kept


def _path(target: str) -> PurePosixPath:
    """A target's file or directory, normalised: "./tests/" and "tests" are the same."""
    path = PurePosixPath(os.path.normpath(target.split("::")[0]))
    return PurePosixPath() if path == PurePosixPath(".") else path


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""
