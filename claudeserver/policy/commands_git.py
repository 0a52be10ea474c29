"""git: the command line read (global options, `-c` settings, aliases) and each
subcommand sent to its rules: pushes and remotes (git_push), config (git_config), paths
and the working tree with the pre-existing tests in it (git_tree), and the options whose
value git runs as a command."""

from __future__ import annotations

import shlex
from pathlib import Path

from . import git_config, git_facts, git_push, git_tree
from .argv import positionals, texts
from .context import Checker, Invocation
from .git_command import GLOBAL_VALUED, GitRun, run_code, split_globals, values_of
from .model import EXFILTRATION, NETWORK_LISTENER, UNPARSEABLE, Denial
from .paths import resolve
from .shell_state import Value, literal_value, shell_source

_MAX_ALIAS_DEPTH = 5
READ_ONLY = frozenset(
    {"status", "log", "diff", "show", "rev-parse", "ls-files", "ls-tree", "describe", "blame",
     "grep", "shortlog", "cat-file", "help", "version", "fetch", "rev-list"}
)  # fmt: skip
# Commands git runs itself (so an alias by the same name is ignored by git).
_BUILTINS = READ_ONLY | frozenset(
    {"add", "am", "annotate", "apply", "archive", "bisect", "branch", "bundle", "checkout",
     "cherry", "cherry-pick", "citool", "clean", "clone", "commit", "config", "count-objects",
     "daemon", "difftool", "fast-export", "fast-import", "filter-branch", "format-patch",
     "fsck", "gc", "hash-object", "init", "instaweb", "interpret-trailers", "maintenance",
     "merge", "merge-base", "mergetool", "mktag", "mktree", "mv", "notes", "pull", "push",
     "range-diff", "read-tree", "rebase", "reflog", "remote", "repack", "replace", "request-pull",
     "rerere", "reset", "restore", "revert", "rm", "send-email", "show-branch", "show-ref",
     "sparse-checkout", "stash", "submodule", "switch", "symbolic-ref", "tag", "update-index",
     "update-ref", "var", "verify-commit", "verify-tag", "whatchanged", "worktree",
     "write-tree", "ls-remote", "column", "credential", "for-each-ref", "hook", "name-rev",
     "prune", "backfill", "replay"}
)  # fmt: skip
# Options of other subcommands whose value git runs as a shell command.
_RUNS_VALUE = {
    "rebase": ("-x", "--exec"),
    "difftool": ("-x", "--extcmd"),
    "grep": ("-O", "--open-files-in-pager"),
    "fetch": ("--upload-pack",),
    "pull": ("--upload-pack",),
    "clone": ("-u", "--upload-pack"),
    "ls-remote": ("--upload-pack",),
    "archive": ("--exec",),
    "filter-branch": (
        "--env-filter", "--tree-filter", "--index-filter", "--parent-filter", "--msg-filter",
        "--commit-filter", "--tag-name-filter",
    ),
}  # fmt: skip
_CLONE_VALUED = (
    "-b", "--branch", "-o", "--origin", "--depth", "-u", "--upload-pack", "--reference",
    "--separate-git-dir", "-c", "--config", "--template", "-j", "--jobs", "--filter",
)  # fmt: skip


def git(inv: Invocation, an: Checker) -> None:
    options, words = split_globals(list(inv.args))
    run = GitRun(inv, inv.state.cwd, words=words)
    _read_globals(run, options, an)
    _subcommand(run, an, depth=0)


def _read_globals(run: GitRun, options: list[Value], an: Checker) -> None:
    index = 0
    while index < len(options):
        option = options[index]
        text = option.text or ""
        name, eq, value = text.partition("=")
        given = options[index + 1] if text in GLOBAL_VALUED and index + 1 < len(options) else None
        index += 2 if given is not None else 1
        if name in ("--git-dir", "--work-tree") and eq:
            run.dirs.append(literal_value(value))
        elif text == "-c" and given is not None:
            key, has_value, setting = (given.text or "").partition("=")
            if given.text is None:
                raise Denial(UNPARSEABLE, f"`git -c {given.raw}` is computed at run time")
            run.settings[key.lower()] = setting if has_value else "true"
            git_config.judge_setting(key, setting if has_value else "true", run.inv, an)
        elif name == "--config-env":
            key = (value if eq else (given.text if given is not None else "")) or ""
            if git_config.COMMAND_KEYS.match(key.partition("=")[0]):
                raise Denial(
                    UNPARSEABLE, f"`git --config-env {key}` runs a command from the environment"
                )
        elif given is not None and text in ("-C", "--git-dir", "--work-tree"):
            run.dirs.append(given)
            if text == "-C":
                run.cwd = _moved(run.cwd, given, run.inv)


def _moved(cwd: Path | None, target: Value, inv: Invocation) -> Path | None:
    if cwd is None or target.text is None:
        return None
    return resolve(target.text, cwd, inv.state.home)


def _subcommand(run: GitRun, an: Checker, *, depth: int) -> None:
    inv = run.inv
    sub = run.words[0].text if run.words else None
    rest = run.words[1:]
    if sub is not None and sub not in _BUILTINS and depth < _MAX_ALIAS_DEPTH:
        alias = _alias(run, sub)
        if alias is not None:
            _expand(run, alias, rest, an, depth)
            return
    if sub == "push":
        git_push.push(run, rest, an)
    elif sub == "config":
        git_config.config(rest, inv, an)
    elif sub == "remote":
        git_push.remote(rest, inv, an)
    elif sub == "clone":
        _clone(rest, inv, an)
    elif sub in ("checkout", "restore"):
        git_tree.checkout(run, sub, rest, an)
    elif sub in ("rm", "mv"):
        git_tree.remove(run, sub, rest, an)
    elif sub in git_tree.WHOLE_TREE:
        git_tree.whole_tree(run, sub, rest, an)
    elif sub == "submodule" and texts(rest)[:1] == ["foreach"]:
        run_code(rest[-1:], inv, an, "git submodule foreach")
    elif sub == "bisect" and texts(rest)[:1] == ["run"]:
        an.shell(shlex.join(texts(rest[1:])), inv.state.fork(), inv.stdin)
    elif sub == "send-email":
        raise Denial(EXFILTRATION, "`git send-email` mails the repository's changes away", inv.text)
    elif sub in ("daemon", "instaweb"):
        raise Denial(NETWORK_LISTENER, f"`git {sub}` serves the repository on the network")
    for option in _RUNS_VALUE.get(sub or "", ()):
        run_code(values_of(rest, option), inv, an, f"git {sub} {option}")
    if sub not in READ_ONLY:
        for directory in run.dirs:
            an.write(directory, inv.state)


def _alias(run: GitRun, sub: str) -> str | None:
    key = f"alias.{sub.lower()}"
    if key in run.settings:
        return run.settings[key]
    if run.cwd is None:
        return None
    found = [v for k, v in git_facts.config_entries(run.cwd) if k == key]
    return found[-1] if found else None


def _expand(run: GitRun, alias: str, rest: list[Value], an: Checker, depth: int) -> None:
    inv = run.inv
    if alias.startswith("!"):
        an.shell(f"{alias[1:]} {shell_source(rest)}", inv.state.fork(), inv.stdin)
        return
    try:
        words = [literal_value(w) for w in shlex.split(alias)]
    except ValueError:
        raise Denial(UNPARSEABLE, f"the git alias `{alias}` cannot be parsed") from None
    expanded = GitRun(inv, run.cwd, run.settings, run.dirs, [*words, *rest])
    _subcommand(expanded, an, depth=depth + 1)


def _clone(rest: list[Value], inv: Invocation, an: Checker) -> None:
    operands = positionals(rest, _CLONE_VALUED)
    if not operands:
        return
    source = operands[0].text or ""
    name = source.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1].removesuffix(".git")
    destination = operands[1] if len(operands) >= 2 else literal_value(name or "repo")
    an.write(destination, inv.state)
    cwd = inv.state.cwd
    if destination.text is not None and cwd is not None:
        inv.state.downloaded.add(resolve(destination.text, cwd, inv.state.home))
