"""The files a shell command reads and writes, judged where the line has left them.

paths.py judges one path spelled out in full. A word on a command line needs more first:
its value may only be known at run time, it is relative to a directory `cd` may have
moved (or made unknown), and it may pass through a symlink an earlier command of the same
line creates, which does not exist yet while the line is analyzed. The session's
`Read(...)`/`Edit(...)` deny rules hold for shell commands too, and a `Read(...)` allow
rule lifts a read denied as outside the project.
"""

from __future__ import annotations

from pathlib import Path

from .model import OUTSIDE_PROJECT, RULE, Denial
from .paths import (
    Places,
    check_read,
    check_read_pattern,
    check_write,
    check_write_pattern,
    lexical,
    resolve,
)
from .rules import RuleSet
from .shell_state import ShellState, Value


def write(
    value: Value, state: ShellState, places: Places, rules: RuleSet, *, deleting: bool = False
) -> None:
    verb = "deletes" if deleting else "writes"
    if value.text is None:
        raise Denial(
            OUTSIDE_PROJECT,
            f"{verb} `{value.raw}`, whose value is only known at run time and may lie "
            "outside the project",
            value.raw,
        )
    base = (
        state.cwd
        if state.cwd is not None
        else (places.project if value.text.startswith(("/", "~")) else None)
    )
    if base is None:
        raise Denial(
            OUTSIDE_PROJECT,
            f"{verb} `{value.raw}` relative to a directory only known at run time",
            value.raw,
        )
    text = _through_links(value.text, base, state)
    _deny_path_rule(rules, "Edit", text, base, state)
    if value.glob:
        check_write_pattern(text, base, places, deleting=deleting)
    else:
        check_write(text, base, places, deleting=deleting)


def read(
    value: Value, state: ShellState, places: Places, rules: RuleSet, *, recursive: bool = False
) -> None:
    if value.text is None:
        return
    base = state.cwd or places.project
    if state.cwd is None and not value.text.startswith(("/", "~")):
        return
    text = _through_links(value.text, base, state)
    _deny_path_rule(rules, "Read", text, base, state)
    try:
        if value.glob:
            check_read_pattern(text, base, places, recursive=recursive)
        else:
            check_read(text, base, places, recursive=recursive)
    except Denial as denial:
        path = Path(denial.subject) if denial.subject.startswith("/") else None
        if path is None or not rules.lifts_path("Read", denial, path):
            raise


def _deny_path_rule(rules: RuleSet, tool: str, text: str, base: Path, state: ShellState) -> None:
    """`Read(...)`/`Edit(...)` deny rules hold for shell commands too."""
    if not rules.deny:
        return
    path = resolve(text, base, state.home)
    rule = rules.denying(tool, [path])
    if rule is not None:
        raise Denial(RULE, f"touches {path}, which matches the deny rule `{rule.raw}`", text)


def _through_links(text: str, base: Path, state: ShellState) -> str:
    if not state.links:
        return text
    spelled = lexical(text, base, state.home)
    followed = state.follow_links(spelled)
    return text if followed == spelled else str(followed)
