"""git commands that rewrite the whole working tree, with the pre-existing tests in it.

`git reset --hard`, `git stash` and its `apply`, `pop` and `branch`, moving to another
commit (`git switch`, `git checkout <rev>`, `git read-tree -u`) replace files all over the
tree, the pre-existing regression tests with them, by whatever version the stash or the
other commit holds (a stash may even predate the task). Which version that is cannot be
read from the command line, so where the repository holds such tests these are denied,
with the per-file form to use instead; a stash of named paths (`git stash push --
src/app.py`) is judged by its paths.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import git_facts
from .argv import positionals, texts
from .context import Checker, Invocation
from .model import PROTECTED_TEST, Denial
from .paths import within
from .shell_state import Value

SUBCOMMANDS = frozenset({"reset", "stash", "switch", "read-tree"})
_RESET_MODES = ("--hard", "--merge", "--keep")
_STASH_READS = frozenset({"list", "show", "drop", "clear", "create", "store"})
_STASH_WRITES = frozenset({"apply", "pop", "branch"})
_STASH_VALUED = ("-m", "--message", "--pathspec-from-file")
_SWITCH_VALUED = ("-c", "-C", "--create", "--force-create", "--orphan", "--conflict")
_STAYS = frozenset({"HEAD", "@"})


@dataclass(frozen=True)
class Tree:
    """Where a git command runs: its invocation, its directory (None when unknown) and
    whether --git-dir/--work-tree name the repository outright."""

    inv: Invocation
    cwd: Path | None
    explicit: bool


def judge(
    sub: str, rest: list[Value], tree: Tree, an: Checker, cover: Callable[[Value], None]
) -> None:
    """Deny `git <sub> <rest>` when it would rewrite pre-existing tests; `cover` denies a
    pathspec that covers one."""
    flags = set(texts(rest))
    if sub == "reset":
        for mode in (m for m in _RESET_MODES if m in flags):
            _deny(f"reset {mode}", tree, an, "undo your own changes file by file instead "
                  "(`git restore <file>`, `git checkout -- <file>`)")  # fmt: skip
    elif sub == "stash":
        _stash(rest, tree, an, cover)
    elif sub == "switch":
        if "--orphan" in flags:
            _deny("switch --orphan", tree, an, "it empties the working tree")
        operands = positionals(rest, _SWITCH_VALUED)
        if operands:
            switch_to(operands[0], "switch", tree, an)
    elif sub == "read-tree" and "-u" in flags:
        _deny("read-tree -u", tree, an, "read files of another tree with `git show <rev>:<path>`")


def switch_to(target: Value, what: str, tree: Tree, an: Checker) -> None:
    """`git checkout <rev>` or `git switch <branch>` without paths: the whole working tree
    moves to that commit; staying where it is changes nothing."""
    current = git_facts.current_branch(tree.cwd) if tree.cwd is not None else None
    if target.text in _STAYS or (target.text is not None and target.text == current):
        return
    _deny(f"{what} {target.raw}", tree, an, "the task's work stays on its branch; read "
          "another version of a file with `git show <rev>:<path>`")  # fmt: skip


def _stash(rest: list[Value], tree: Tree, an: Checker, cover: Callable[[Value], None]) -> None:
    first = rest[0].text if rest else None
    verb = first if first is not None and not first.startswith("-") else "push"
    if verb in _STASH_READS:
        return
    if verb in _STASH_WRITES:
        _deny(f"stash {verb}", tree, an, "it may hold other versions of them; take your own "
              "files from it by name (`git checkout stash@{0} -- <file>`)")  # fmt: skip
        return
    args = rest[1:] if first in ("push", "save") else rest
    named = positionals(args, _STASH_VALUED) if verb == "push" else []
    if named and "--pathspec-from-file" not in texts(args):
        for spec in named:
            cover(spec)
        return
    _deny("stash", tree, an, "stash your own files by name instead (`git stash push -- <file>`)")


def _deny(what: str, tree: Tree, an: Checker, advice: str) -> None:
    held = _tests_in_tree(tree, an)
    if not held:
        return
    project = an.places.project
    names = [str(p.relative_to(project)) if within(p, project) else str(p) for p in held]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    raise Denial(
        PROTECTED_TEST,
        f"`git {what}` rewrites the working tree, and the pre-existing regression tests in "
        f"it ({shown}) must stay as they were; {advice}",
        tree.inv.text,
    )


def _tests_in_tree(tree: Tree, an: Checker) -> list[Path]:
    """The pre-existing tests in the working tree the command acts on; all of them when
    that cannot be told."""
    protected = sorted(an.places.protected)
    if not protected or tree.cwd is None or tree.explicit:
        return protected
    top = git_facts.work_tree(tree.cwd)
    return [p for p in protected if top is not None and within(p, top)]
