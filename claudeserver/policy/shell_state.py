"""What the analyzer knows while walking a command line, and how words expand under it."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from .paths import GLOB_CHARS, expand_tilde
from .shell_ast import Lit, Opaque, Sub, Var, Word

# `$TMPDIR` is scratch space by definition; its real value does not matter to the policy.
_TMPDIR = "/tmp"
_SPLIT_CHARS = frozenset(" \t\n")


@dataclass
class ShellState:
    """Mutable per-walk facts: cwd and variables as `cd`/assignments change them."""

    cwd: Path | None
    home: Path
    vars: dict[str, str | None] = field(default_factory=dict)
    ifs_changed: bool = False
    functions: set[str] = field(default_factory=set)
    # Files written earlier in the same command line: their content when we could see it
    # (so running them can be analyzed) or None when it was produced opaquely.
    scripts: dict[Path, str | None] = field(default_factory=dict)
    downloaded: set[Path] = field(default_factory=set)
    # Symlinks created earlier in the line (link -> target), which do not exist yet when
    # we analyze, so later paths through them must be redirected by hand.
    links: dict[Path, Path] = field(default_factory=dict)
    # Copies or links of programs made earlier in the line (path -> the program's name, or
    # None when it cannot be known), so `cp /bin/sh ./x; ./x -c ...` is judged as `sh -c`.
    programs: dict[Path, str | None] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    oldpwd: Path | None = None
    dirstack: list[Path | None] = field(default_factory=list)
    depth: int = 0

    def fork(self) -> ShellState:
        """Subshells and substitutions see the parent's state but cannot change it."""
        return replace(
            self,
            vars=dict(self.vars),
            functions=set(self.functions),
            scripts=self.scripts,
            downloaded=self.downloaded,
            links=self.links,
            programs=self.programs,
            aliases=dict(self.aliases),
            dirstack=list(self.dirstack),
        )

    def follow_links(self, path: Path) -> Path:
        for link in sorted(self.links, key=lambda p: len(p.parts), reverse=True):
            if path == link or link in path.parents:
                return self.links[link] / path.relative_to(link)
        return path

    def lookup(self, name: str) -> str | None:
        if name in self.vars:
            return self.vars[name]
        if name == "HOME":
            return str(self.home)
        if name == "PWD":
            return None if self.cwd is None else str(self.cwd)
        if name == "TMPDIR":
            return _TMPDIR
        return None


@dataclass(frozen=True)
class Value:
    """A word after expansion. `text` is None when it depends on run-time data."""

    text: str | None
    raw: str
    glob: bool = False
    subs: tuple[Sub, ...] = ()
    literal: bool = True  # no expansion at all took part

    @property
    def known(self) -> bool:
        return self.text is not None


def expand(word: Word, state: ShellState) -> Value:
    pieces: list[str] = []
    unknown = False
    glob = False
    literal = True
    subs: list[Sub] = []
    for index, part in enumerate(word.parts):
        if isinstance(part, Lit):
            text = part.text
            if index == 0 and not part.quoted and text.startswith("~"):
                # `~user` is looked up in the password database like the shell does.
                expanded = expand_tilde(text, state.home)
                if expanded is None:
                    expanded = os.path.expanduser(text)
                    expanded = None if expanded.startswith("~") else expanded
                unknown = unknown or expanded is None
                text = expanded or text
            glob = glob or (not part.quoted and any(c in GLOB_CHARS for c in text))
            pieces.append(text)
            continue
        literal = False
        if isinstance(part, Var):
            resolved = state.lookup(part.name) if part.plain else None
            if resolved is None or (not part.quoted and _splits(resolved, state)):
                unknown = True
                continue
            glob = glob or (not part.quoted and any(c in GLOB_CHARS for c in resolved))
            pieces.append(resolved)
        elif isinstance(part, Sub):
            subs.append(part)
            unknown = True
        elif isinstance(part, Opaque):
            subs.extend(part.subs)
            unknown = True
    result = None if unknown else "".join(pieces)
    return Value(result, word.raw, glob, tuple(subs), literal)


def _splits(value: str, state: ShellState) -> bool:
    """An unquoted expansion that word-splits changes argv in ways we do not model."""
    return state.ifs_changed or any(c in _SPLIT_CHARS for c in value)


def literal_value(text: str) -> Value:
    return Value(text, text)


def shell_source(values: Iterable[Value]) -> str:
    """Expanded words as shell source again (to judge what an alias or a wrapper runs):
    known values quoted so they parse back to themselves, run-time ones as typed."""
    return " ".join(shlex.quote(v.text) if v.text is not None else v.raw for v in values)
