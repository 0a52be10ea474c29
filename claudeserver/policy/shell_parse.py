"""tree-sitter-bash syntax tree -> a small, explicit shell AST the analyzer can walk.

Anything the converter does not understand raises an `unparseable` Denial: a construct we
cannot see into is a construct that could hide a destructive command.
"""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable
from functools import lru_cache

import tree_sitter
import tree_sitter_bash

from .model import UNPARSEABLE, Denial
from .shell_ast import (
    Assign,
    Command,
    FunctionDef,
    Group,
    Lit,
    Loop,
    Node,
    Opaque,
    Part,
    Pipeline,
    Redirect,
    Sequence,
    Sub,
    Var,
    Word,
)

MAX_SOURCE_CHARS = 100_000
MAX_TREE_DEPTH = 150
PARSE_SECONDS = 0.5


_TS = tree_sitter.Node
_REDIRECT_OPS = ("&>>", ">>", "&>", ">&", "<&", ">|", "<>", ">", "<")
_STRUCTURAL = frozenset({"program", "list", "do_group", "if_statement", "elif_clause"})
_STRUCTURAL |= {"else_clause"}


@lru_cache(maxsize=1)
def _language() -> tree_sitter.Language:
    return tree_sitter.Language(tree_sitter_bash.language())


# A Parser holds mutable state, so each thread (the server may decide concurrently) gets
# its own, built on first use.
_local = threading.local()


def _parser() -> tree_sitter.Parser:
    parser: tree_sitter.Parser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = tree_sitter.Parser(_language())
        _local.parser = parser
    return parser


def unparseable(reason: str, subject: str = "") -> Denial:
    return Denial(UNPARSEABLE, reason, subject)


def parse(source: str) -> Node:
    if len(source) > MAX_SOURCE_CHARS:
        raise unparseable(f"command is longer than {MAX_SOURCE_CHARS} characters")
    data = source.encode("utf-8", errors="surrogateescape")
    deadline = time.monotonic() + PARSE_SECONDS

    def read(offset: int, _point: tuple[int, int]) -> bytes:
        return data[offset : offset + 65536]

    def too_slow(*_state: object) -> bool:
        return time.monotonic() > deadline

    try:
        tree = _parser().parse(read, progress_callback=too_slow)
    except ValueError as exc:
        raise unparseable("parsing the command took too long") from exc
    root = tree.root_node
    if root.has_error:
        raise unparseable("the shell syntax is invalid or ambiguous")
    _check_depth(root)
    return _Converter(data).statement(root)


def _check_depth(root: _TS) -> None:
    stack = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise unparseable("the command is nested too deeply to inspect")
        stack.extend((child, depth + 1) for child in node.children)


class _Converter:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def text(self, node: _TS) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", "surrogateescape")

    def statement(self, node: _TS) -> Node:
        kind = node.type
        handler = self._handlers().get(kind)
        if handler is not None:
            return handler(node)
        if kind in _STRUCTURAL:
            return self.sequence(node.named_children)
        raise unparseable(f"unsupported shell construct `{kind}`", self.text(node))

    def _handlers(self) -> dict[str, Callable[[_TS], Node]]:
        return {
            "command": self.command,
            "pipeline": lambda n: Pipeline(tuple(self.statement(c) for c in _named(n))),
            "subshell": lambda n: Group(self.sequence(n.named_children), (), subshell=True),
            "compound_statement": lambda n: Group(self.sequence(n.named_children), (), False),
            "negated_command": lambda n: self.sequence(n.named_children),
            "redirected_statement": self.redirected,
            "variable_assignment": lambda n: self.assign([n]),
            "variable_assignments": lambda n: self.assign(n.named_children),
            "declaration_command": lambda n: self.assign(n.named_children),
            "unset_command": lambda n: Sequence(self.subs_in(n)),
            "test_command": lambda n: Sequence(self.subs_in(n)),
            "function_definition": self.function,
            "while_statement": self.while_loop,
            "for_statement": self.for_loop,
            "c_style_for_statement": self.c_for_loop,
            "case_statement": self.case,
        }

    def sequence(self, nodes: list[_TS]) -> Sequence:
        return Sequence(tuple(self.statement(c) for c in nodes if c.type != "comment"))

    def subs_in(self, node: _TS) -> tuple[Node, ...]:
        return tuple(sub.body for sub in self._find_subs(node))

    def _find_subs(self, node: _TS) -> tuple[Sub, ...]:
        found: list[Sub] = []
        stack = list(reversed(node.children))
        while stack:
            child = stack.pop()
            if child.type in ("command_substitution", "process_substitution"):
                found.append(self.sub(child))
            else:
                stack.extend(reversed(child.children))
        return tuple(found)

    def sub(self, node: _TS) -> Sub:
        body = self.sequence(node.named_children)
        return Sub(body, process=node.type == "process_substitution")

    def command(self, node: _TS) -> Command:
        assigns: list[tuple[str, Word]] = []
        words: list[Word] = []
        redirects: list[Redirect] = []
        for child in _named(node):
            if child.type == "variable_assignment":
                name, value = self.assignment(child)
                assigns.append((name, value or Word((), "")))
            elif child.type == "command_name":
                words.append(self.word(child.named_children[0]))
            elif child.type.endswith("redirect"):
                redirects.append(self.redirect(child)[0])
            else:
                words.append(self.word(child))
        return Command(tuple(assigns), tuple(words), tuple(redirects), self.text(node))

    def assignment(self, node: _TS) -> tuple[str, Word | None]:
        name_node = node.child_by_field_name("name")
        value_node = node.child_by_field_name("value")
        name = self.text(name_node) if name_node is not None else ""
        if value_node is None:
            return name, Word((), "")
        if value_node.type == "array" or "[" in name or "+=" in self.text(node):
            return name, Word((Opaque(self.text(value_node), self._find_subs(value_node)),), "")
        return name, self.word(value_node)

    def assign(self, nodes: list[_TS]) -> Node:
        pairs: list[tuple[str, Word | None]] = []
        subs: list[Sub] = []
        for child in nodes:
            if child.type == "variable_assignment":
                pairs.append(self.assignment(child))
            else:
                subs.extend(self._find_subs(child))
        return Assign(tuple(pairs), tuple(subs))

    def redirected(self, node: _TS) -> Node:
        body_node = node.child_by_field_name("body")
        redirects: list[Redirect] = []
        stages: list[Node] = []
        following: list[Node] = []
        for child in node.named_children:
            if child == body_node:
                continue
            redirect, extra, pipe_rest, after = self.redirect(child)
            redirects.extend((redirect, *extra))
            stages.extend(pipe_rest)
            following.extend(after)
        body: Node = Sequence(()) if body_node is None else self.statement(body_node)
        if isinstance(body, Command):
            body = Command(body.assigns, body.words, (*body.redirects, *redirects), body.text)
        else:
            body = Group(body, tuple(redirects), subshell=False)
        if stages:
            body = Pipeline((body, *stages))
        return Sequence((body, *following)) if following else body

    def redirect(self, node: _TS) -> tuple[Redirect, list[Redirect], list[Node], list[Node]]:
        if node.type == "herestring_redirect":
            content = self.word(node.named_children[-1])
            return Redirect("<<<", None, None, content), [], [], []
        if node.type == "heredoc_redirect":
            return self.heredoc(node)
        if node.type != "file_redirect":
            raise unparseable(f"unsupported redirection `{self.text(node)}`")
        fd_node = node.child_by_field_name("descriptor")
        fd = self.text(fd_node) if fd_node is not None else None
        op = next((c.type for c in node.children if c.type in _REDIRECT_OPS), ">")
        dest = node.child_by_field_name("destination")
        target = self.word(dest) if dest is not None else None
        return Redirect(op, fd, target), [], [], []

    def heredoc(self, node: _TS) -> tuple[Redirect, list[Redirect], list[Node], list[Node]]:
        extra: list[Redirect] = []
        stages: list[Node] = []
        following: list[Node] = []
        content = Word((), "")
        quoted = False
        for child in node.named_children:
            if child.type == "heredoc_start":
                quoted = any(q in self.text(child) for q in "'\"\\")
            elif child.type == "heredoc_body":
                content = self.heredoc_body(child, quoted)
            elif child.type.endswith("redirect"):
                extra.append(self.redirect(child)[0])
            elif child.type == "pipeline":
                stages.extend(self.statement(c) for c in _named(child))
            elif child.type != "heredoc_end":
                following.append(self.statement(child))
        return Redirect("<<", None, None, content), extra, stages, following

    def heredoc_body(self, node: _TS, quoted: bool) -> Word:
        raw = self.text(node)
        if quoted:
            return Word((Lit(raw, quoted=True),), raw)
        return Word(self.spliced(node, node.start_byte, node.end_byte), raw)

    def spliced(self, node: _TS, start: int, end: int) -> tuple[Part, ...]:
        """Parts of a double-quoted string or heredoc, keeping text between child nodes."""
        parts: list[Part] = []
        cursor = start
        for child in node.named_children:
            if child.start_byte > cursor:
                gap = self.data[cursor : child.start_byte].decode("utf-8", "surrogateescape")
                parts.append(Lit(_unescape_double(gap), quoted=True))
            if child.type in ("string_content", "heredoc_content"):
                parts.append(Lit(_unescape_double(self.text(child)), quoted=True))
            else:
                parts.extend(self.parts(child, quoted=True))
            cursor = max(cursor, child.end_byte)
        if end > cursor:
            gap = self.data[cursor:end].decode("utf-8", "surrogateescape")
            parts.append(Lit(_unescape_double(gap), quoted=True))
        return tuple(parts)

    def function(self, node: _TS) -> Node:
        name_node = node.child_by_field_name("name")
        body_node = node.child_by_field_name("body")
        if name_node is None or body_node is None:
            raise unparseable("function definition without a body")
        return FunctionDef(self.text(name_node), self.statement(body_node))

    def while_loop(self, node: _TS) -> Node:
        cond_node = node.child_by_field_name("condition")
        body_node = node.child_by_field_name("body")
        if cond_node is None or body_node is None:
            raise unparseable("loop without a condition or body")
        until = node.children[0].type == "until"
        cond_text = self.text(cond_node).strip().rstrip(";").strip()
        forever = cond_text in (("false",) if until else ("true", ":", "[ 1 ]", "((1))"))
        body = self.statement(body_node)
        return Loop(self.statement(cond_node), body, forever, background=_backgrounds(body_node))

    def for_loop(self, node: _TS) -> Node:
        var_node = node.child_by_field_name("variable")
        body_node = node.child_by_field_name("body")
        if var_node is None or body_node is None:
            raise unparseable("for loop without a variable or body")
        values = node.children_by_field_name("value")
        items = tuple(self.word(v) for v in values) if values else None
        body = self.statement(body_node)
        return Loop(None, body, forever=False, var=self.text(var_node), items=items)

    def c_for_loop(self, node: _TS) -> Node:
        body_node = node.child_by_field_name("body")
        if body_node is None:
            raise unparseable("for loop without a body")
        forever = node.child_by_field_name("condition") is None
        body = self.statement(body_node)
        return Loop(Sequence(self.subs_in(node)), body, forever, background=_backgrounds(body_node))

    def case(self, node: _TS) -> Node:
        items: list[Node] = []
        value = node.child_by_field_name("value")
        if value is not None:
            items.extend(sub.body for sub in self.parts_subs(value))
        for item in node.named_children:
            if item.type == "case_item":
                values = set(item.children_by_field_name("value"))
                body = [c for c in item.named_children if c not in values]
                items.append(self.sequence(body))
        return Sequence(tuple(items))

    def parts_subs(self, node: _TS) -> tuple[Sub, ...]:
        if node.type in ("command_substitution", "process_substitution"):
            return (self.sub(node),)
        return self._find_subs(node)

    def word(self, node: _TS) -> Word:
        return Word(self.parts(node, quoted=False), self.text(node))

    def parts(self, node: _TS, *, quoted: bool) -> tuple[Part, ...]:
        kind = node.type
        raw = self.text(node)
        if kind in ("word", "number", "brace_expression"):
            return (Lit(_unescape_word(raw), quoted=quoted),)
        if kind == "raw_string":
            return (Lit(raw[1:-1], quoted=True),)
        if kind in ("string", "translated_string"):
            start = node.start_byte + (2 if kind == "translated_string" else 1)
            return self.spliced(node, start, node.end_byte - 1)
        if kind == "concatenation":
            return tuple(p for c in node.children for p in self.parts(c, quoted=quoted))
        if kind == "simple_expansion":
            return (Var(raw[1:], quoted=quoted, plain=True),)
        if kind == "expansion":
            names = [c for c in node.named_children if "variable_name" in c.type]
            name = self.text(names[0]) if names else ""
            plain = raw == "${" + name + "}"
            return (Var(name, quoted=quoted, plain=plain), *self._find_subs(node))
        if kind in ("command_substitution", "process_substitution"):
            return (self.sub(node),)
        return (Opaque(raw, self._find_subs(node)),)


def _backgrounds(node: _TS) -> bool:
    """Whether a `&` puts any command of this body in the background."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "&":
            return True
        if current.type not in ("command_substitution", "process_substitution"):
            stack.extend(current.children)
    return False


def _named(node: _TS) -> list[_TS]:
    return [c for c in node.named_children if c.type != "comment"]


def _unescape_word(raw: str) -> str:
    try:
        pieces = shlex.split(raw, comments=False, posix=True)
    except ValueError:
        return raw
    return pieces[0] if len(pieces) == 1 else raw


def _unescape_double(raw: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        char = raw[i]
        if char == "\\" and i + 1 < len(raw) and raw[i + 1] in '$`"\\\n':
            if raw[i + 1] != "\n":
                out.append(raw[i + 1])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)
