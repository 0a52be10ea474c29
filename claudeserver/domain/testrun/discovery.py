"""Which test files the agent created or changed: compared against a snapshot from the start."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

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


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""
