"""find: the files it deletes, the commands it runs on what it finds, and the files it
writes its results to.

`find -delete` and `find -exec rm {} ;` act on files the command line never names, so
what they may reach is judged from find's roots and filters: with `-delete` each root is
judged as a deletion below it (and the whole project without a filter is refused); when
find deletes or runs a command that changes files, a pre-existing test (or a directory
holding one) that passes its filters is denied; and each `-exec` command is judged with a
stand-in for the files found.
"""

from __future__ import annotations

import fnmatch
import os
import re

from .argv import option_values, texts
from .context import Checker, Handler, Invocation
from .model import GIT_INTERNALS, Denial
from .paths import check_protected, resolve, within
from .shell_state import Value, literal_value

_FIND_FILTERS = frozenset(
    {"-name", "-iname", "-path", "-ipath", "-regex", "-iregex", "-newer", "-mtime", "-empty"}
)
_FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})
_FIND_WRITES = frozenset({"-fprint", "-fprint0", "-fprintf", "-fls"})
# Commands that, run by `find -exec` on the files found, change or remove them.
_CHANGES_FILES = frozenset(
    {"rm", "mv", "sed", "gsed", "perl", "truncate", "shred", "tee", "cp", "unlink", "dd",
     "sh", "bash", "zsh", "dash", "python", "python3", "node", "ruby", "chmod", "ln"}
)  # fmt: skip


def find(inv: Invocation, an: Checker) -> None:
    args = list(inv.args)
    roots: list[Value] = []
    while args and args[0].text is not None and not args[0].text.startswith(("-", "(", "!")):
        roots.append(args.pop(0))
    if args and args[0].text is None:
        roots.append(args.pop(0))
    roots = roots or [literal_value(".")]
    flags = set(texts(args))
    for index, arg in enumerate(args):
        if arg.text in _FIND_WRITES and index + 1 < len(args):
            an.write(args[index + 1], inv.state)
    if "-delete" in flags:
        _find_delete(inv, an, roots, filtered=bool(flags & _FIND_FILTERS))
    execs = _find_exec_commands(args)
    changing = [c for c in execs if (c[0].text or "").rsplit("/", 1)[-1] in _CHANGES_FILES]
    if "-delete" in flags or changing or any(c[0].text is None for c in execs):
        _find_protected(inv, an, roots, args)
    for command in execs:
        for root in roots:
            placeholder = literal_value(f"{(root.text or '.').rstrip('/') or '/'}/__found__")
            argv = [placeholder if a.text == "{}" else a for a in command]
            sub = inv.with_args(argv)
            if sub is not None:
                an.invocation(sub)


def _find_delete(inv: Invocation, an: Checker, roots: list[Value], *, filtered: bool) -> None:
    for root in roots:
        if root.text is None:
            an.write(root, inv.state, deleting=True)
            continue
        an.write(literal_value(root.text.rstrip("/") + "/__found__"), inv.state, deleting=True)
        cwd = inv.state.cwd
        at_root = cwd is not None and resolve(root.text, cwd, an.places.home) == an.places.project
        if at_root and not filtered:
            raise Denial(GIT_INTERNALS, "`find -delete` without a filter deletes the whole project")


def _find_protected(inv: Invocation, an: Checker, roots: list[Value], args: list[Value]) -> None:
    """Deny when a pre-existing test (or a directory holding one) passes find's filters."""
    cwd = inv.state.cwd
    if not an.places.protected or cwd is None:
        return
    flags = set(texts(args))
    negated = bool(flags & {"!", "-not", "-o", "-or"})
    names = [v.text for v in option_values(args, ("-name", "-iname"))]
    paths = [v.text for v in option_values(args, ("-path", "-ipath", "-wholename"))]
    regexes = [v.text for v in option_values(args, ("-regex", "-iregex"))]
    for root in roots:
        if root.text is None:
            continue
        base = resolve(root.text, cwd, inv.state.home)
        for test in sorted(an.places.protected):
            if not within(test, base):
                continue
            for path in (test, *(p for p in test.parents if within(p, base))):
                shown = os.path.join(root.text, str(path.relative_to(base)))
                if negated or _find_matches(path.name, shown, names, paths, regexes):
                    check_protected(path, an.places, tree=True)


def _find_matches(
    name: str, shown: str, names: list[str | None], paths: list[str | None],
    regexes: list[str | None],
) -> bool:  # fmt: skip
    if not (names or paths or regexes):
        return True
    if any(p is None for p in (*names, *paths, *regexes)):
        return True
    hits = [fnmatch.fnmatch(name, p or "") for p in names]
    hits += [fnmatch.fnmatch(shown, p or "") for p in paths]
    hits += [re.fullmatch(p or "", shown) is not None for p in regexes]
    return any(hits)


def _find_exec_commands(args: list[Value]) -> list[list[Value]]:
    commands: list[list[Value]] = []
    current: list[Value] | None = None
    for arg in args:
        if current is None:
            if arg.text in _FIND_EXEC:
                current = []
        elif arg.text in (";", "+"):
            commands.append(current)
            current = None
        else:
            current.append(arg)
    if current:
        commands.append(current)
    return commands


HANDLERS: dict[str, Handler] = {"find": find}
