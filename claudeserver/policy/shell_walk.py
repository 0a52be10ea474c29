"""Stateless queries over the shell AST (which commands appear where)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .shell_ast import (
    Assign,
    Command,
    FunctionDef,
    Group,
    Lit,
    Loop,
    Node,
    Opaque,
    Pipeline,
    Sequence,
    Sub,
    Word,
)

_FILE_WRITES = frozenset({">", ">>", ">|", "&>", "&>>"})
_LOOP_EXITS = frozenset({"break", "exit", "return"})


def _word_subs(word: Word) -> Iterator[Sub]:
    for part in word.parts:
        if isinstance(part, Sub):
            yield part
        elif isinstance(part, Opaque):
            yield from part.subs


def children(node: Node) -> Iterator[Node]:
    if isinstance(node, Command):
        words = [*node.words, *(w for _, w in node.assigns)]
        words += [w for r in node.redirects for w in (r.target, r.content) if w is not None]
        for word in words:
            yield from (sub.body for sub in _word_subs(word))
    elif isinstance(node, Assign):
        yield from (sub.body for sub in node.subs)
        for _, value in node.pairs:
            if value is not None:
                yield from (sub.body for sub in _word_subs(value))
    elif isinstance(node, Pipeline):
        yield from node.stages
    elif isinstance(node, Sequence):
        yield from node.items
    elif isinstance(node, (Group, FunctionDef)):
        yield node.body
    elif isinstance(node, Loop):
        if node.condition is not None:
            yield node.condition
        yield node.body


def commands(node: Node) -> Iterator[Command]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Command):
            yield current
        stack.extend(children(current))


def _typed_name(command: Command) -> Lit | None:
    """The command's name when it is typed as one literal word."""
    if not command.words:
        return None
    parts = command.words[0].parts
    return parts[0] if len(parts) == 1 and isinstance(parts[0], Lit) else None


def command_name(command: Command) -> str | None:
    typed = _typed_name(command)
    return None if typed is None else typed.text.rsplit("/", 1)[-1]


def alias_expandable(command: Command) -> bool:
    """A command name typed as a plain word (quoting or a path disables alias expansion)."""
    typed = _typed_name(command)
    return typed is not None and not typed.quoted


def mentions(node: Node, names: Iterable[str]) -> bool:
    wanted = set(names)
    return any(command_name(c) in wanted for c in commands(node))


def leaves(node: Node) -> bool:
    """Whether `node` has a `break`, `exit` or `return` that may end the loop it is in."""
    return mentions(node, _LOOP_EXITS)


def writes_files_forever(body: Node) -> bool:
    """An endless loop body that appends to a real file and never leaves the loop."""
    if leaves(body):
        return False
    for command in commands(body):
        for redirect in command.redirects:
            target = redirect.target.raw if redirect.target is not None else ""
            if redirect.op in _FILE_WRITES and target not in ("/dev/null", ""):
                return True
    return False
