"""The small shell AST the analyzer walks (built by shell_parse from tree-sitter)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True)
class Lit:
    text: str
    quoted: bool


@dataclass(frozen=True)
class Var:
    name: str
    quoted: bool
    plain: bool  # `$X` / `${X}`; operators such as `${X:-d}` make the value unknowable


@dataclass(frozen=True)
class Sub:
    body: Node
    process: bool  # `<(...)` rather than `$(...)`


@dataclass(frozen=True)
class Opaque:
    raw: str
    subs: tuple[Sub, ...] = ()


Part: TypeAlias = Lit | Var | Sub | Opaque


@dataclass(frozen=True)
class Word:
    parts: tuple[Part, ...]
    raw: str


@dataclass(frozen=True)
class Redirect:
    op: str
    fd: str | None
    target: Word | None
    content: Word | None = None  # heredoc or here-string text fed to stdin


@dataclass(frozen=True)
class Command:
    assigns: tuple[tuple[str, Word], ...]
    words: tuple[Word, ...]
    redirects: tuple[Redirect, ...]
    text: str


@dataclass(frozen=True)
class Assign:
    pairs: tuple[tuple[str, Word | None], ...]
    subs: tuple[Sub, ...]


@dataclass(frozen=True)
class Pipeline:
    stages: tuple[Node, ...]


@dataclass(frozen=True)
class Sequence:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Group:
    body: Node
    redirects: tuple[Redirect, ...]
    subshell: bool


@dataclass(frozen=True)
class FunctionDef:
    name: str
    body: Node


@dataclass(frozen=True)
class Loop:
    condition: Node | None
    body: Node
    forever: bool
    var: str = ""
    items: tuple[Word, ...] | None = None
    background: bool = False  # the body starts commands in the background (`cmd &`)


Node: TypeAlias = Command | Assign | Pipeline | Sequence | Group | FunctionDef | Loop
