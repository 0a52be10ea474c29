"""Isolation "none": a copy of the project taken at the start, compared with it later."""

from __future__ import annotations

import difflib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from claudeserver.domain.workspace.errors import WorkspaceError
from claudeserver.domain.workspace.model import FileStat, Workspace
from claudeserver.domain.workspace.worktree import require, short_id

# Dependencies, caches and build output: large, regenerated, and not what a review is about.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "build",
        "dist",
        "target",
    }
)
MAX_FILE_BYTES = 1_000_000
BINARY_PROBE_BYTES = 8000
TREE = "tree"
MANIFEST = "large-files.json"

# What a file is compared by: its bytes (a symlink: its target), or for a file over the size
# limit, which is never copied, its (size, mtime_ns).
Content = bytes | tuple[int, int]


def create_snapshot(project: Path, *, task_id: str, root: Path) -> Workspace:
    """Copy the project's files into a new directory under `root`."""
    if not project.is_dir():
        raise WorkspaceError(f"project directory {project} does not exist")
    # Resolved, so the walk can recognise `root` when it lies inside the project.
    project = project.resolve()
    root.mkdir(parents=True, exist_ok=True)
    snapshot = root.resolve() / f"{project.name}-{short_id(task_id)}-snapshot"
    if snapshot.exists():
        raise WorkspaceError(f"snapshot directory {snapshot} already exists")
    tree = snapshot / TREE
    tree.mkdir(parents=True)
    large: dict[str, tuple[int, int]] = {}
    for rel, path in _files(project, skip=root.resolve()):
        content = _read(path)
        if content is None:
            continue
        if isinstance(content, tuple):
            large[rel] = content
            continue
        dest = tree / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            os.symlink(os.readlink(path), dest)
        else:
            shutil.copy2(path, dest)
    (snapshot / MANIFEST).write_text(json.dumps(large))
    return Workspace(kind="snapshot", path=project, snapshot=snapshot)


def changes(ws: Workspace) -> Iterator[tuple[str, Content | None, Content | None]]:
    """(path, before, after) for every file that differs; None = absent on that side."""
    snapshot = require(ws)
    tree = snapshot / TREE
    before: dict[str, Content | None] = {
        rel: _read(path) for rel, path in _files(tree, skip=None, skip_names=frozenset())
    }
    manifest = json.loads((snapshot / MANIFEST).read_text())
    before.update({rel: (size, mtime) for rel, (size, mtime) in manifest.items()})
    if not ws.path.is_dir():
        raise WorkspaceError(f"project directory {ws.path} no longer exists")
    after = {rel: _read(path) for rel, path in _files(ws.path, skip=snapshot.parent)}
    for rel in sorted(before.keys() | after.keys()):
        old, new = before.get(rel), after.get(rel)
        if old != new:
            yield rel, old, new


def diff_text(ws: Workspace) -> str:
    return "".join(_patch(rel, old, new)[0] for rel, old, new in changes(ws))


def diff_stat(ws: Workspace) -> list[FileStat]:
    stats: list[FileStat] = []
    for rel, old, new in changes(ws):
        _, added, removed = _patch(rel, old, new)
        stats.append(FileStat(rel, added, removed))
    return stats


def _patch(
    rel: str, old: Content | None, new: Content | None
) -> tuple[str, int | None, int | None]:
    """A git-style patch for one file, and its added and removed line counts."""
    a = "/dev/null" if old is None else f"a/{rel}"
    b = "/dev/null" if new is None else f"b/{rel}"
    header = f"diff --git a/{rel} b/{rel}\n"
    if old is None:
        header += "new file mode 100644\n"
    elif new is None:
        header += "deleted file mode 100644\n"
    old_text, new_text = _text(old), _text(new)
    if old_text is None or new_text is None:
        return f"{header}Binary files {a} and {b} differ\n", None, None
    lines = list(
        difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=a,
            tofile=b,
        )
    )
    added = sum(1 for line in lines[2:] if line.startswith("+"))
    removed = sum(1 for line in lines[2:] if line.startswith("-"))
    # difflib leaves a last line without its newline unmarked; git marks it.
    body = "".join(
        line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n" for line in lines
    )
    return header + body, added, removed


def _text(content: Content | None) -> str | None:
    """Decoded text; "" for an absent file; None for binary or oversized content."""
    if content is None:
        return ""
    if isinstance(content, tuple) or b"\0" in content[:BINARY_PROBE_BYTES]:
        return None
    return content.decode("utf-8", "replace")


def _read(path: Path) -> Content | None:
    """None for what is neither a regular file nor a symlink, or cannot be read."""
    try:
        if path.is_symlink():
            return os.readlink(path).encode()
        info = path.stat()
        if not path.is_file():
            return None
        if info.st_size > MAX_FILE_BYTES:
            return (info.st_size, info.st_mtime_ns)
        return path.read_bytes()
    except OSError:
        return None


def _files(
    root: Path, *, skip: Path | None, skip_names: frozenset[str] = SKIP_DIRS
) -> Iterator[tuple[str, Path]]:
    """(relative posix path, path) of files and symlinks below `root`, skipping `skip`."""
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        keep: list[str] = []
        for name in dirnames:
            path = here / name
            if name in skip_names or (skip is not None and path == skip):
                continue
            if path.is_symlink():
                filenames.append(name)  # compared by its target, never followed
            else:
                keep.append(name)
        dirnames[:] = keep
        for name in filenames:
            path = here / name
            yield path.relative_to(root).as_posix(), path
