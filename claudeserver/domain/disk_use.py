"""A cap on the disk a task may fill: its workspace and its private home together.

A single file is capped by the file-size limit of every confined process (1 GiB), but
nothing held a task to a total: a thousand such files, a build directory that grows each
round, a cache that never shrinks. Quotas need root or a filesystem of their own, so the
server measures instead: what the workspace and the task's private home (the test runs'
home and caches) take on disk when the task starts, after the baseline, and after each
agent turn and each test round. A task that has added more than WORKSPACE_DISK_LIMIT_MB
fails, saying which files are the largest. Measuring cannot stop a run that fills the
disk between two checks; it stops the task at the next one. (The test runs' own /tmp is
in memory, capped at the same size.)
"""

from __future__ import annotations

import heapq
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024
_LARGEST = 3


@dataclass(frozen=True)
class Usage:
    """Bytes on disk under some directories (blocks, so sparse files count for what they
    hold; a file linked twice counts once), and the largest files."""

    total: int
    largest: tuple[tuple[int, Path], ...]


def measure(roots: Sequence[Path]) -> Usage:
    """What the files under `roots` take on disk; symlinks are not followed."""
    total = 0
    seen: set[tuple[int, int]] = set()
    largest: list[tuple[int, str]] = []
    pending = [str(root) for root in roots if root.is_dir()]
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:  # gone meanwhile, or unreadable
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                pending.append(entry.path)
            if info.st_nlink > 1 and not stat.S_ISDIR(info.st_mode):
                if (info.st_dev, info.st_ino) in seen:
                    continue
                seen.add((info.st_dev, info.st_ino))
            size = info.st_blocks * 512
            total += size
            if stat.S_ISREG(info.st_mode):
                heapq.heappush(largest, (size, entry.path))
                if len(largest) > _LARGEST:
                    heapq.heappop(largest)
    ranked = tuple((size, Path(path)) for size, path in sorted(largest, reverse=True))
    return Usage(total, ranked)


@dataclass(frozen=True)
class DiskCap:
    """A task's cap: `excess()` says what is wrong once the areas grew past `limit_mb`."""

    areas: tuple[Path, ...]  # the workspace, the private home
    limit_mb: int  # 0: no cap
    at_start: int  # bytes the areas took when the task started

    @classmethod
    def start(cls, areas: Sequence[Path], *, limit_mb: int) -> DiskCap:
        at_start = measure(areas).total if limit_mb else 0
        return cls(tuple(areas), limit_mb, at_start)

    def excess(self) -> str | None:
        """None while within the cap; else what was added and the largest files."""
        if not self.limit_mb:
            return None
        usage = measure(self.areas)
        added = usage.total - self.at_start
        if added <= self.limit_mb * MB:
            return None
        largest = ", ".join(f"{path} ({_size(size)})" for size, path in usage.largest)
        return (
            f"Disk limit: the task added {_size(added)} to its workspace and private home "
            f"({', '.join(str(a) for a in self.areas)}), over WORKSPACE_DISK_LIMIT_MB="
            f"{self.limit_mb}. Largest files: {largest or 'none'}"
        )


def _size(count: int) -> str:
    if count >= 1024 * MB:
        return f"{count / (1024 * MB):.1f} GB"
    return f"{count / MB:.1f} MB"
