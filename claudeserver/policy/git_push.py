"""git pushes, judged by the refs they would change on the remote, and the commands that
change where pushes go.

A force push or a deleted remote ref can destroy history nobody can restore, so only the
session's `allow_force_push` switch allows one. Any other push is allowed by
`allow_git_push`; without it a push of the task's own branches (`claudeserver/*`) is a
question for a person watching, and a push of any other ref is denied. Pointing a remote
somewhere else (`git remote add`, `remote.*.url` and `url.*.insteadOf` settings) would
send later pushes elsewhere, so it needs `allow_git_push` too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import git_facts
from .argv import positionals, texts
from .context import Checker, Invocation
from .git_command import GitRun, run_code
from .model import ASK_PUSH, GIT_REMOTE, Denial
from .paths import has_glob
from .shell_state import Value

TASK_BRANCHES = "claudeserver/"
# Settings that choose which refs a push without refspecs sends.
_PUSH_CONFIG = re.compile(r"^remote\.[^.]+\.(push|mirror)$|^push\.default$", re.IGNORECASE)


@dataclass
class _Push:
    remote: Value | None = None
    refspecs: list[Value] = field(default_factory=list)
    force: bool = False
    delete: bool = False
    everything: bool = False


def push(run: GitRun, rest: list[Value], an: Checker) -> None:
    """`git push <rest>`."""
    inv = run.inv
    config = an.config
    parsed = _parse_push(rest, inv, an)
    for spec in parsed.refspecs:
        parsed.force = parsed.force or (spec.text or "").startswith("+")
        parsed.delete = parsed.delete or (spec.text or "").startswith(":")
    if (parsed.force or parsed.delete) and not config.allow_force_push:
        raise Denial(
            GIT_REMOTE,
            "force-pushes or deletes remote refs, which can destroy remote history; only the "
            "session's `allow_force_push` switch allows that",
            inv.text,
            hard=True,
        )
    if config.allow_git_push or config.allow_force_push:
        return
    foreign = _foreign_refs(run, parsed)
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


def _parse_push(rest: list[Value], inv: Invocation, an: Checker) -> _Push:
    parsed = _Push()
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
            parsed.force = True
        elif name in ("--delete", "--prune"):
            parsed.delete = True
        elif name == "--mirror":
            parsed.force = parsed.delete = parsed.everything = True
        elif name in ("--all", "--branches", "--tags", "--follow-tags"):
            parsed.everything = True
        elif name in ("--receive-pack", "--exec", "--repo", "--push-option"):
            given = Value(value, arg.raw) if eq else (rest[index] if index < len(rest) else None)
            index += 0 if eq else 1
            if given is not None and name == "--repo":
                parsed.remote = given
            elif given is not None and name != "--push-option":
                run_code([given], inv, an, f"git push {name}")
        elif text == "-o":
            index += 1
        elif not text.startswith("--"):
            letters = set(text[1:])
            parsed.force = parsed.force or "f" in letters
            parsed.delete = parsed.delete or "d" in letters
            index += 1 if text.endswith("o") else 0
    if operands and parsed.remote is None:
        parsed.remote, operands = operands[0], operands[1:]
    parsed.refspecs = operands
    return parsed


def _foreign_refs(run: GitRun, parsed: _Push) -> str:
    """The first destination that is not a task branch, described; "" when all are."""
    if parsed.everything:
        return "every branch or tag"
    if any(_PUSH_CONFIG.match(key) for key in run.settings):
        return "refs chosen by `-c` push settings"
    if not parsed.refspecs:
        on_disk = [k for k, _ in git_facts.config_entries(run.cwd)] if run.cwd else []
        if run.cwd is None or any(_PUSH_CONFIG.match(k) for k in on_disk):
            return "the refs the repository's push configuration names"
        return _task_ref(_current_branch(run))
    for spec in parsed.refspecs:
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


def _current_branch(run: GitRun) -> str | None:
    return git_facts.current_branch(run.cwd) if run.cwd is not None else None


def _task_ref(branch: str | None) -> str:
    if branch is None:
        return "the current branch (unknown here)"
    if branch.startswith(TASK_BRANCHES) and not branch.startswith("refs/"):
        return ""
    return f"`{branch}`"


def remote(rest: list[Value], inv: Invocation, an: Checker) -> None:
    """`git remote <rest>`."""
    verb = next(iter(texts(positionals(rest))), "")
    if verb in ("add", "set-url", "rename"):
        remote_change(inv, an, f"git remote {verb}")


def remote_change(inv: Invocation, an: Checker, what: str) -> None:
    """`what` changes where pushes go."""
    if not (an.config.allow_git_push or an.config.allow_force_push):
        raise Denial(
            GIT_REMOTE,
            f"`{what}` changes where pushes go; only the session's `allow_git_push` allows it",
            inv.text,
            hard=True,
        )
