"""git configuration that runs commands: `-c` settings and `git config` writes.

Many settings hold a command git runs when it gets the chance (a pager, an editor, a
filter, a credential helper, an alias starting with `!`). Given for one command with
`git -c`, such a setting is judged like the command it runs. Written to the repository's
config it would run later, in git commands the server itself runs, so it is denied (an
alias is judged by the command it runs), as is any change to the global configuration.
"""

from __future__ import annotations

import re

from .argv import positionals, texts
from .context import Checker, Invocation
from .git_command import values_of
from .git_push import remote_change
from .model import PERSISTENCE, UNPARSEABLE, Denial
from .shell_state import Value, literal_value

# Config git runs as a command (or loads from elsewhere) whenever it gets the chance.
COMMAND_KEYS = re.compile(
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
# Config that changes where pushes go.
_REMOTE_KEYS = re.compile(
    r"^remote\.[^.]+\.(url|pushurl)$|^url\..+\.(insteadof|pushinsteadof)$", re.I
)
_CONFIG_WRITES = frozenset(
    {"--unset", "--unset-all", "--add", "--replace-all", "--edit", "-e", "--rename-section",
     "--remove-section", "set", "unset", "edit", "rename-section", "remove-section"}
)  # fmt: skip
_CONFIG_VALUED = ("--file", "-f", "--blob", "--type", "--default", "--comment", "--value")


def judge_setting(key: str, value: str, inv: Invocation, an: Checker) -> None:
    """A command-valued setting runs that command: judge it like the command itself."""
    lowered = key.lower()
    if not COMMAND_KEYS.match(lowered):
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


def config(rest: list[Value], inv: Invocation, an: Checker) -> None:
    """`git config <rest>`."""
    flags = set(texts(rest))
    for target in values_of(rest, "--file") + values_of(rest, "-f"):
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
        remote_change(inv, an, key)
    if COMMAND_KEYS.match(key) and not key.lower().startswith("alias."):
        raise Denial(
            PERSISTENCE,
            f"setting `{key}` makes later git commands (the server's included) run `{value}`",
            inv.text,
        )
    judge_setting(key, value, inv, an)


def _setting(rest: list[Value]) -> list[str]:
    """[key, value] of a `git config [set] key value`; shorter when nothing is set."""
    operands = texts(positionals(rest, _CONFIG_VALUED))
    if operands[:1] == ["set"]:
        operands = operands[1:]
    elif operands[:1] and operands[0] in ("get", "list", "unset", "edit", "get-all"):
        return []
    return operands[:2]
