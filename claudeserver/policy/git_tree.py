"""git commands that would overwrite the pre-existing regression tests in the working tree.

Pathspecs: `git checkout <rev> -- <paths>`, `git restore --source <rev> <paths>`,
`git rm` and `git mv` are judged by the paths they name; a pathspec covering a test is
denied (taking a file back from the index is not: the tests come back as they were).

Whole-tree rewrites: `git reset --hard`, `git stash` and its `apply`, `pop` and `branch`,
moving to another commit (`git switch`, `git checkout <rev>`, `git read-tree -u`) replace
files all over the tree, the tests with them, by whatever version the stash or the other
commit holds (a stash may even predate the task). Which version that is cannot be read
from the command line, so where the repository holds such tests these are denied, with
the per-file form to use instead; a stash of named paths (`git stash push --
src/app.py`) is judged by its paths.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

from . import git_facts
from .argv import positionals, texts
from .context import Checker
from .git_command import GitRun, values_of
from .model import PROTECTED_TEST, Denial
from .paths import check_protected, has_glob, resolve, within
from .shell_state import Value

WHOLE_TREE = frozenset({"reset", "stash", "switch", "read-tree"})
_RESET_MODES = ("--hard", "--merge", "--keep")
_STASH_READS = frozenset({"list", "show", "drop", "clear", "create", "store"})
_STASH_WRITES = frozenset({"apply", "pop", "branch"})
_STASH_VALUED = ("-m", "--message", "--pathspec-from-file")
_SWITCH_VALUED = ("-c", "-C", "--create", "--force-create", "--orphan", "--conflict")
_CHECKOUT_VALUED = ("-b", "-B", "--orphan", "--conflict", "-s", "--source", "--pathspec-from-file")
_STAYS = frozenset({"HEAD", "@"})


# -- pathspecs ---------------------------------------------------------------------------


def checkout(run: GitRun, sub: str, rest: list[Value], an: Checker) -> None:
    """`git checkout REV -- tests` and `git restore --source REV tests` overwrite files."""
    source = values_of(rest, "--source") + values_of(rest, "-s")
    if values_of(rest, "--pathspec-from-file") and an.places.protected:
        raise Denial(PROTECTED_TEST, f"`git {sub} --pathspec-from-file` may overwrite tests")
    if "--" in texts(rest):
        split = next(i for i, a in enumerate(rest) if a.text == "--")
        before = positionals(rest[:split], _CHECKOUT_VALUED)
        specs = list(rest[split + 1 :])
    else:
        before = []
        specs = positionals(rest, _CHECKOUT_VALUED)
        if sub == "checkout" and specs and not _names_path(specs[0], run):
            before, specs = specs[:1], specs[1:]
    if sub == "checkout" and before and not specs:
        _switch_to(before[0], "checkout", run, an)
    if sub == "checkout" and before:
        source = before[:1]
    if not source:
        return  # from the index: the tests come back as they were
    for spec in specs:
        _cover_protected(spec, run, an, f"git {sub}")


def _names_path(value: Value, run: GitRun) -> bool:
    if value.text is None or run.cwd is None:
        return False
    return has_glob(value.text) or value.text.startswith(":") or (run.cwd / value.text).exists()


def remove(run: GitRun, sub: str, rest: list[Value], an: Checker) -> None:
    """`git rm` and `git mv`."""
    operands = positionals(rest, ("--pathspec-from-file",))
    if "--cached" in texts(rest):
        return
    if sub == "mv":
        operands = operands[:-1]
    for spec in operands:
        _cover_protected(spec, run, an, f"git {sub}")


def _cover_protected(spec: Value, run: GitRun, an: Checker, what: str) -> None:
    """Deny a pathspec that covers a pre-existing test."""
    protected = an.places.protected
    if not protected:
        return
    cwd = run.cwd
    if spec.text is None or cwd is None:
        raise Denial(PROTECTED_TEST, f"`{what} {spec.raw}` may overwrite pre-existing tests")
    text = spec.text
    if text.startswith(":"):
        check_protected(an.places.project, an.places, tree=True)
    elif has_glob(text):
        for path in protected:
            if within(path, cwd) and fnmatch.fnmatchcase(str(path.relative_to(cwd)), text):
                check_protected(path, an.places, tree=False)
    else:
        check_protected(resolve(text, cwd, run.inv.state.home), an.places, tree=True)


# -- whole-tree rewrites -----------------------------------------------------------------


def whole_tree(run: GitRun, sub: str, rest: list[Value], an: Checker) -> None:
    """Deny `git <sub> <rest>` (a WHOLE_TREE subcommand) when it would rewrite
    pre-existing tests."""
    flags = set(texts(rest))
    if sub == "reset":
        for mode in (m for m in _RESET_MODES if m in flags):
            _deny(f"reset {mode}", run, an, "undo your own changes file by file instead "
                  "(`git restore <file>`, `git checkout -- <file>`)")  # fmt: skip
    elif sub == "stash":
        _stash(rest, run, an)
    elif sub == "switch":
        if "--orphan" in flags:
            _deny("switch --orphan", run, an, "it empties the working tree")
        operands = positionals(rest, _SWITCH_VALUED)
        if operands:
            _switch_to(operands[0], "switch", run, an)
    elif sub == "read-tree" and "-u" in flags:
        _deny("read-tree -u", run, an, "read files of another tree with `git show <rev>:<path>`")


def _switch_to(target: Value, what: str, run: GitRun, an: Checker) -> None:
    """`git checkout <rev>` or `git switch <branch>` without paths: the whole working tree
    moves to that commit; staying where it is changes nothing."""
    current = git_facts.current_branch(run.cwd) if run.cwd is not None else None
    if target.text in _STAYS or (target.text is not None and target.text == current):
        return
    _deny(f"{what} {target.raw}", run, an, "the task's work stays on its branch; read "
          "another version of a file with `git show <rev>:<path>`")  # fmt: skip


def _stash(rest: list[Value], run: GitRun, an: Checker) -> None:
    first = rest[0].text if rest else None
    verb = first if first is not None and not first.startswith("-") else "push"
    if verb in _STASH_READS:
        return
    if verb in _STASH_WRITES:
        _deny(f"stash {verb}", run, an, "it may hold other versions of them; take your own "
              "files from it by name (`git checkout stash@{0} -- <file>`)")  # fmt: skip
        return
    args = rest[1:] if first in ("push", "save") else rest
    named = positionals(args, _STASH_VALUED) if verb == "push" else []
    if named and "--pathspec-from-file" not in texts(args):
        for spec in named:
            _cover_protected(spec, run, an, "git stash")
        return
    _deny("stash", run, an, "stash your own files by name instead (`git stash push -- <file>`)")


def _deny(what: str, run: GitRun, an: Checker, advice: str) -> None:
    held = _tests_in_tree(run, an)
    if not held:
        return
    project = an.places.project
    names = [str(p.relative_to(project)) if within(p, project) else str(p) for p in held]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    raise Denial(
        PROTECTED_TEST,
        f"`git {what}` rewrites the working tree, and the pre-existing regression tests in "
        f"it ({shown}) must stay as they were; {advice}",
        run.inv.text,
    )


def _tests_in_tree(run: GitRun, an: Checker) -> list[Path]:
    """The pre-existing tests in the working tree the command acts on; all of them when
    that cannot be told."""
    protected = sorted(an.places.protected)
    if not protected or run.cwd is None or run.dirs:
        return protected
    top = git_facts.work_tree(run.cwd)
    return [p for p in protected if top is not None and within(p, top)]
