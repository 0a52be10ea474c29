"""What the policy reads from a git repository on disk: its current branch and config.

Only files are read (no `git` process): `.git` (a directory, or a worktree's
`gitdir:` pointer), `HEAD`, `commondir` and `config`.
"""

from __future__ import annotations

import re
from pathlib import Path

_SECTION = re.compile(r'^\s*\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]\s*(.*)$')
_ENTRY = re.compile(r"^\s*([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$")


def git_dir(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        marker = directory / ".git"
        if marker.is_dir():
            return marker
        if marker.is_file():
            text = _read(marker)
            if text.startswith("gitdir:"):
                pointed = Path(text[len("gitdir:") :].strip())
                return pointed if pointed.is_absolute() else directory / pointed
            return None
    return None


def work_tree(start: Path) -> Path | None:
    """The top of the working tree `start` lies in: where its `.git` is."""
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def current_branch(start: Path) -> str | None:
    """`main` for `ref: refs/heads/main`; None when detached or unknown."""
    directory = git_dir(start)
    head = _read(directory / "HEAD").strip() if directory is not None else ""
    prefix = "ref: refs/heads/"
    return head[len(prefix) :] if head.startswith(prefix) else None


def config_entries(start: Path) -> list[tuple[str, str]]:
    """(`section.sub.key` lower-cased except the subsection, value) of the repository's
    own config, including a worktree's shared one."""
    directory = git_dir(start)
    if directory is None:
        return []
    files = [directory / "config"]
    common = _read(directory / "commondir").strip()
    if common:
        files.insert(0, (directory / common) / "config")
    return [entry for path in files for entry in parse_config(_read(path))]


def parse_config(text: str) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        match = _SECTION.match(line)
        if match is not None:
            name, sub, rest = match.groups()
            section = name.lower() + (f".{sub}" if sub is not None else "")
            line = rest.strip()
            if not line:
                continue
        entry = _ENTRY.match(line)
        if entry is not None and section:
            value = (entry.group(2) or "true").strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            entries.append((f"{section}.{entry.group(1).lower()}", value))
    return entries


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[:1_000_000]
    except OSError:
        return ""
