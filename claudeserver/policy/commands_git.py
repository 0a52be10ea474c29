"""git: pushes judged by their refspecs, config and aliases that run commands, and
pathspecs that would overwrite the pre-existing tests."""

from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from . import git_facts, git_tree
from .argv import positionals, texts
from .context import Checker, Invocation
from .model import (
    ASK_PUSH,
    EXFILTRATION,
    GIT_REMOTE,
    NETWORK_LISTENER,
    PERSISTENCE,
    PROTECTED_TEST,
    UNPARSEABLE,
    Denial,
)
from .paths import check_protected, has_glob, resolve, within
from .shell_state import Value, literal_value

TASK_BRANCHES = "claudeserver/"
_MAX_ALIAS_DEPTH = 5
_GLOBAL_VALUED = frozenset(
    {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path", "--config-env",
     "--super-prefix", "--list-cmds", "--attr-source"}
)  # fmt: skip
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
# Config git runs as a command (or loads from elsewhere) whenever it gets the chance.
_COMMAND_KEYS = re.compile(
    r"^(core\.(pager|editor|sshcommand|fsmonitor|askpass|gitproxy|hookspath|"
    r"alternaterefscommand)|sequence\.editor|diff\.external|diff\.[^.]+\.(textconv|command)|"
    r"filter\.[^.]+\.(clean|smudge|process)|merge\.[^.]+\.driver|"
    r"(difftool|mergetool|man|browser)\.[^.]+\.(cmd|path)|gpg(\.[^.]+)?\.program|"
    r"credential(\..+)?\.helper|pager\.[^.]+|uploadpack\.packobjectshook|"
    r"remote\.[^.]+\.(receivepack|uploadpack|vcs)|include\.path|includeif\..+\.path|"
    r"web\.browser|instaweb\.httpd|sendemail\..+|ssh\.variant|"
    r"submodule\..+\.update|alias\..+)$",
    re.IGNORECASE,
)
_REMOTE_KEYS = re.compile(
    r"^remote\.[^.]+\.(url|pushurl)$|^url\..+\.(insteadof|pushinsteadof)$", re.I
)
_PUSH_CONFIG = re.compile(r"^remote\.[^.]+\.(push|mirror)$|^push\.default$", re.IGNORECASE)
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


@dataclass
class _Git:
    """One git command line: where it runs, its `-c` settings and the subcommand."""

    inv: Invocation
    cwd: Path | None
    settings: dict[str, str | None] = field(default_factory=dict)
    dirs: list[Value] = field(default_factory=list)
    words: list[Value] = field(default_factory=list)


def main_args(args: list[Value]) -> list[Value]:
    """The subcommand and its arguments, without git's global options."""
    return _split(args)[1]


def _split(args: list[Value]) -> tuple[list[Value], list[Value]]:
    index = 0
    while index < len(args) and (args[index].text or "").startswith("-"):
        text = args[index].text or ""
        index += 2 if text in _GLOBAL_VALUED else 1
    return list(args[:index]), list(args[index:])


def git(inv: Invocation, an: Checker) -> None:
    options, words = _split(list(inv.args))
    run = _Git(inv, inv.state.cwd, words=words)
    _read_globals(run, options, an)
    _subcommand(run, an, depth=0)


def _read_globals(run: _Git, options: list[Value], an: Checker) -> None:
    index = 0
    while index < len(options):
        option = options[index]
        text = option.text or ""
        name, eq, value = text.partition("=")
        given = options[index + 1] if text in _GLOBAL_VALUED and index + 1 < len(options) else None
        index += 2 if given is not None else 1
        if name in ("--git-dir", "--work-tree") and eq:
            run.dirs.append(literal_value(value))
        elif text == "-c" and given is not None:
            key, has_value, setting = (given.text or "").partition("=")
            if given.text is None:
                raise Denial(UNPARSEABLE, f"`git -c {given.raw}` is computed at run time")
            run.settings[key.lower()] = setting if has_value else "true"
            _judge_setting(key, setting if has_value else "true", run.inv, an)
        elif name == "--config-env":
            key = (value if eq else (given.text if given is not None else "")) or ""
            if _COMMAND_KEYS.match(key.partition("=")[0]):
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


def _judge_setting(key: str, value: str, inv: Invocation, an: Checker) -> None:
    """A command-valued setting runs that command: judge it like the command itself."""
    lowered = key.lower()
    if not _COMMAND_KEYS.match(lowered):
        return
    if lowered.startswith("alias."):
        if value.startswith("!"):
            an.shell(value[1:], inv.state.fork(), inv.stdin)
        return
    if lowered in ("include.path",) or lowered.startswith("includeif."):
        raise Denial(UNPARSEABLE, f"`{key}` loads git config that cannot be inspected here")
    if lowered == "core.hookspath":
        an.read(literal_value(value), inv.state)
        return
    if lowered == "core.fsmonitor" and value.lower() in ("true", "false", "0", "1"):
        return
    an.shell(value, inv.state.fork(), inv.stdin)


def _subcommand(run: _Git, an: Checker, *, depth: int) -> None:
    inv = run.inv
    sub = run.words[0].text if run.words else None
    rest = run.words[1:]
    if sub is not None and sub not in _BUILTINS and depth < _MAX_ALIAS_DEPTH:
        alias = _alias(run, sub)
        if alias is not None:
            _expand(run, alias, rest, an, depth)
            return
    if sub == "push":
        _push(run, rest, an)
    elif sub == "config":
        _config(rest, inv, an)
    elif sub == "remote":
        _remote(rest, inv, an)
    elif sub == "clone":
        _clone(rest, inv, an)
    elif sub in ("checkout", "restore"):
        _checkout(run, sub, rest, an)
    elif sub in ("rm", "mv"):
        _remove(run, sub, rest, an)
    elif sub in git_tree.SUBCOMMANDS:
        _whole_tree(run, sub, rest, an)
    elif sub == "submodule" and texts(rest)[:1] == ["foreach"]:
        _run_code(rest[-1:], inv, an, "git submodule foreach")
    elif sub == "bisect" and texts(rest)[:1] == ["run"]:
        shown = " ".join(shlex.quote(t) for t in texts(rest[1:]))
        an.shell(shown, inv.state.fork(), inv.stdin)
    elif sub == "send-email":
        raise Denial(EXFILTRATION, "`git send-email` mails the repository's changes away", inv.text)
    elif sub in ("daemon", "instaweb"):
        raise Denial(NETWORK_LISTENER, f"`git {sub}` serves the repository on the network")
    for option in _RUNS_VALUE.get(sub or "", ()):
        _run_code(_values(rest, option), inv, an, f"git {sub} {option}")
    if sub not in READ_ONLY:
        for directory in run.dirs:
            an.write(directory, inv.state)


def _alias(run: _Git, sub: str) -> str | None:
    key = f"alias.{sub.lower()}"
    if key in run.settings:
        return run.settings[key]
    if run.cwd is None:
        return None
    found = [v for k, v in git_facts.config_entries(run.cwd) if k == key]
    return found[-1] if found else None


def _expand(run: _Git, alias: str, rest: list[Value], an: Checker, depth: int) -> None:
    inv = run.inv
    if alias.startswith("!"):
        tail = " ".join(shlex.quote(a.text) if a.text is not None else a.raw for a in rest)
        an.shell(f"{alias[1:]} {tail}", inv.state.fork(), inv.stdin)
        return
    try:
        words = [literal_value(w) for w in shlex.split(alias)]
    except ValueError:
        raise Denial(UNPARSEABLE, f"the git alias `{alias}` cannot be parsed") from None
    expanded = _Git(inv, run.cwd, run.settings, run.dirs, [*words, *rest])
    _subcommand(expanded, an, depth=depth + 1)


def _values(args: list[Value], option: str) -> list[Value]:
    found: list[Value] = []
    for index, arg in enumerate(args):
        text = arg.text or ""
        if text == option and index + 1 < len(args):
            found.append(args[index + 1])
        elif option.startswith("--") and text.startswith(option + "="):
            found.append(Value(text[len(option) + 1 :], arg.raw))
        elif not option.startswith("--") and text.startswith(option) and len(text) > 2:
            found.append(Value(text[2:], arg.raw))
    return found


def _run_code(values: list[Value], inv: Invocation, an: Checker, what: str) -> None:
    for value in values:
        if value.text is None:
            raise Denial(UNPARSEABLE, f"`{what}` runs a command computed at run time")
        an.shell(value.text, inv.state.fork(), inv.stdin)


# -- push ------------------------------------------------------------------------------


@dataclass
class _Push:
    remote: Value | None = None
    refspecs: list[Value] = field(default_factory=list)
    force: bool = False
    delete: bool = False
    everything: bool = False


def _parse_push(rest: list[Value], inv: Invocation, an: Checker) -> _Push:
    push = _Push()
    operands: list[Value] = []
    index = 0
    options_done = False
    while index < len(rest):
        arg = rest[index]
        index += 1
        text = arg.text
        if options_done or text is None or not text.startswith("-") or text == "-":
            operands.append(arg)
            continue
        if text == "--":
            options_done = True
            continue
        name, eq, value = text.partition("=")
        if name in ("--force", "--force-with-lease", "--force-if-includes"):
            push.force = True
        elif name in ("--delete", "--prune"):
            push.delete = True
        elif name == "--mirror":
            push.force = push.delete = push.everything = True
        elif name in ("--all", "--branches", "--tags", "--follow-tags"):
            push.everything = True
        elif name in ("--receive-pack", "--exec", "--repo", "--push-option"):
            given = Value(value, arg.raw) if eq else (rest[index] if index < len(rest) else None)
            index += 0 if eq else 1
            if given is not None and name == "--repo":
                push.remote = given
            elif given is not None and name != "--push-option":
                _run_code([given], inv, an, f"git push {name}")
        elif text == "-o":
            index += 1
        elif not text.startswith("--"):
            letters = set(text[1:])
            push.force = push.force or "f" in letters
            push.delete = push.delete or "d" in letters
            index += 1 if text.endswith("o") else 0
    if operands and push.remote is None:
        push.remote, operands = operands[0], operands[1:]
    push.refspecs = operands
    return push


def _push(run: _Git, rest: list[Value], an: Checker) -> None:
    inv = run.inv
    config = an.config
    push = _parse_push(rest, inv, an)
    for spec in push.refspecs:
        push.force = push.force or (spec.text or "").startswith("+")
        push.delete = push.delete or (spec.text or "").startswith(":")
    if (push.force or push.delete) and not config.allow_force_push:
        raise Denial(
            GIT_REMOTE,
            "force-pushes or deletes remote refs, which can destroy remote history; only the "
            "session's `allow_force_push` switch allows that",
            inv.text,
            hard=True,
        )
    if config.allow_git_push or config.allow_force_push:
        return
    foreign = _foreign_refs(run, push)
    if foreign:
        raise Denial(
            GIT_REMOTE,
            f"pushes {foreign}, which is not a task branch ({TASK_BRANCHES}*); only the "
            "session's `allow_git_push` switch allows pushing other refs",
            inv.text,
            hard=True,
        )
    # Only the task's own branches: a person watching may let it through.
    question = f"`{inv.text}` pushes the task branch to the remote"
    disabled = Denial(GIT_REMOTE, "`git push` is disabled for this project", inv.text)
    an.ask(inv, ASK_PUSH, question, disabled)


def _foreign_refs(run: _Git, push: _Push) -> str:
    """The first destination that is not a task branch, described; "" when all are."""
    if push.everything:
        return "every branch or tag"
    if any(_PUSH_CONFIG.match(key) for key in run.settings):
        return "refs chosen by `-c` push settings"
    if not push.refspecs:
        on_disk = [k for k, _ in git_facts.config_entries(run.cwd)] if run.cwd else []
        if run.cwd is None or any(_PUSH_CONFIG.match(k) for k in on_disk):
            return "the refs the repository's push configuration names"
        return _task_ref(_current_branch(run))
    for spec in push.refspecs:
        text = (spec.text or "").lstrip("+")
        if spec.text is None or has_glob(text) or text == "tag":
            return f"`{spec.raw}`"
        source, _, destination = text.partition(":")
        target = destination or source
        if target in ("HEAD", "@"):
            target = _current_branch(run) or "HEAD"
        described = _task_ref(target.removeprefix("refs/heads/"))
        if described:
            return described
    return ""


def _current_branch(run: _Git) -> str | None:
    return git_facts.current_branch(run.cwd) if run.cwd is not None else None


def _task_ref(branch: str | None) -> str:
    if branch is None:
        return "the current branch (unknown here)"
    if branch.startswith(TASK_BRANCHES) and not branch.startswith("refs/"):
        return ""
    return f"`{branch}`"


# -- config and remotes ----------------------------------------------------------------


def _config(rest: list[Value], inv: Invocation, an: Checker) -> None:
    flags = set(texts(rest))
    for target in _values(rest, "--file") + _values(rest, "-f"):
        an.write(target, inv.state)
    setting = _setting(rest)
    if flags & {"--global", "--system"} and (flags & _CONFIG_WRITES or len(setting) == 2):
        raise Denial(
            PERSISTENCE, "changing global git configuration persists beyond the project", inv.text
        )
    if len(setting) != 2:
        return
    key, value = setting
    if _REMOTE_KEYS.match(key):
        _remote_change(inv, an, key)
    if _COMMAND_KEYS.match(key) and not key.lower().startswith("alias."):
        raise Denial(
            PERSISTENCE,
            f"setting `{key}` makes later git commands (the server's included) run `{value}`",
            inv.text,
        )
    _judge_setting(key, value, inv, an)


_CONFIG_WRITES = frozenset(
    {"--unset", "--unset-all", "--add", "--replace-all", "--edit", "-e", "--rename-section",
     "--remove-section", "set", "unset", "edit", "rename-section", "remove-section"}
)  # fmt: skip
_CONFIG_VALUED = ("--file", "-f", "--blob", "--type", "--default", "--comment", "--value")


def _setting(rest: list[Value]) -> list[str]:
    """[key, value] of a `git config [set] key value`; shorter when nothing is set."""
    operands = texts(positionals(rest, _CONFIG_VALUED))
    if operands[:1] == ["set"]:
        operands = operands[1:]
    elif operands[:1] and operands[0] in ("get", "list", "unset", "edit", "get-all"):
        return []
    return operands[:2]


def _remote(rest: list[Value], inv: Invocation, an: Checker) -> None:
    verb = next(iter(texts(positionals(rest))), "")
    if verb in ("add", "set-url", "rename"):
        _remote_change(inv, an, f"git remote {verb}")


def _remote_change(inv: Invocation, an: Checker, what: str) -> None:
    if not (an.config.allow_git_push or an.config.allow_force_push):
        raise Denial(
            GIT_REMOTE,
            f"`{what}` changes where pushes go; only the session's `allow_git_push` allows it",
            inv.text,
            hard=True,
        )


_CLONE_VALUED = (
    "-b", "--branch", "-o", "--origin", "--depth", "-u", "--upload-pack", "--reference",
    "--separate-git-dir", "-c", "--config", "--template", "-j", "--jobs", "--filter",
)  # fmt: skip


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


# -- pathspecs over the pre-existing tests -----------------------------------------------


def _checkout(run: _Git, sub: str, rest: list[Value], an: Checker) -> None:
    """`git checkout REV -- tests` and `git restore --source REV tests` overwrite files."""
    valued = ("-b", "-B", "--orphan", "--conflict", "-s", "--source", "--pathspec-from-file")
    source = _values(rest, "--source") + _values(rest, "-s")
    if _values(rest, "--pathspec-from-file") and an.places.protected:
        raise Denial(PROTECTED_TEST, f"`git {sub} --pathspec-from-file` may overwrite tests")
    texts_all = texts(rest)
    if "--" in texts_all:
        split = next(i for i, a in enumerate(rest) if a.text == "--")
        before = positionals(rest[:split], valued)
        specs = list(rest[split + 1 :])
    else:
        before = []
        specs = positionals(rest, valued)
        if sub == "checkout" and specs and not _names_path(specs[0], run):
            before, specs = specs[:1], specs[1:]
    if sub == "checkout" and before and not specs:
        git_tree.switch_to(before[0], "checkout", _tree(run), an)
    if sub == "checkout" and before:
        source = before[:1]
    if not source:
        return  # from the index: the tests come back as they were
    for spec in specs:
        _cover_protected(spec, run, an, f"git {sub}")


def _names_path(value: Value, run: _Git) -> bool:
    if value.text is None or run.cwd is None:
        return False
    return has_glob(value.text) or value.text.startswith(":") or (run.cwd / value.text).exists()


def _remove(run: _Git, sub: str, rest: list[Value], an: Checker) -> None:
    operands = positionals(rest, ("--pathspec-from-file",))
    if "--cached" in texts(rest):
        return
    if sub == "mv":
        operands = operands[:-1]
    for spec in operands:
        _cover_protected(spec, run, an, f"git {sub}")


def _cover_protected(spec: Value, run: _Git, an: Checker, what: str) -> None:
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


# -- commands that rewrite the whole working tree (see git_tree.py) ----------------------


def _whole_tree(run: _Git, sub: str, rest: list[Value], an: Checker) -> None:
    def cover(spec: Value) -> None:
        _cover_protected(spec, run, an, f"git {sub}")

    git_tree.judge(sub, rest, _tree(run), an, cover)


def _tree(run: _Git) -> git_tree.Tree:
    return git_tree.Tree(run.inv, run.cwd, explicit=bool(run.dirs))
