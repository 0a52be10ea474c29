"""One git command line as the git rules read it.

The rules for pushes (git_push), config (git_config) and the working tree (git_tree) all
need the same few facts about the line: git's global options split from the subcommand,
where the command runs, its `-c` settings, and the option values git runs as commands.
They live here so those modules share them without importing each other's rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .context import Checker, Invocation
from .model import UNPARSEABLE, Denial
from .shell_state import Value

GLOBAL_VALUED = frozenset(
    {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--exec-path", "--config-env",
     "--super-prefix", "--list-cmds", "--attr-source"}
)  # fmt: skip


@dataclass
class GitRun:
    """One git command line: where it runs, its `-c` settings and the subcommand.

    `dirs` are the directories `-C`, `--git-dir` and `--work-tree` name: when there are
    any, the repository is named outright rather than found from the current directory.
    """

    inv: Invocation
    cwd: Path | None
    settings: dict[str, str | None] = field(default_factory=dict)
    dirs: list[Value] = field(default_factory=list)
    words: list[Value] = field(default_factory=list)


def split_globals(args: list[Value]) -> tuple[list[Value], list[Value]]:
    """git's global options, and the subcommand with its arguments."""
    index = 0
    while index < len(args) and (args[index].text or "").startswith("-"):
        text = args[index].text or ""
        index += 2 if text in GLOBAL_VALUED else 1
    return list(args[:index]), list(args[index:])


def main_args(args: list[Value]) -> list[Value]:
    """The subcommand and its arguments, without git's global options."""
    return split_globals(args)[1]


def values_of(args: list[Value], option: str) -> list[Value]:
    """Every value given to `option`: `-x V`, `-xV`, `--opt V` or `--opt=V`."""
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


def run_code(values: list[Value], inv: Invocation, an: Checker, what: str) -> None:
    """Option values git runs as shell commands: judge each as the command it is."""
    for value in values:
        if value.text is None:
            raise Denial(UNPARSEABLE, f"`{what}` runs a command computed at run time")
        an.shell(value.text, inv.state.fork(), inv.stdin)
