"""How `cd`, `pushd` and `popd` move the directory the rest of the line runs in.

The analyzer follows them as the shell would, `cd -`, the directory stack and CDPATH
included, so that `cd .. && rm -rf other-project` is judged where it really deletes.
Where the shell's choice cannot be known (a CDPATH only known at run time, `popd` with
nothing pushed) the directory becomes None: paths relative to it cannot be resolved, so
writes through them are refused.
"""

from __future__ import annotations

import os
from pathlib import Path

from .context import Invocation
from .paths import resolve
from .shell_ast import Command
from .shell_state import ShellState, Value

_UNKNOWN_CDPATH = "\0"


def change_directory(inv: Invocation, cmd: Command, prefix: list[Value]) -> None:
    """Follow `cd`/`pushd`/`popd` (`prefix`: the values of `cmd`'s own assignments)."""
    if inv.name not in ("cd", "pushd", "popd"):
        return
    state = inv.state
    before = state.cwd
    targets = [a for a in inv.args if (a.text or "") not in ("-L", "-P", "-e", "-n", "--")]
    if inv.name == "popd":
        state.cwd = state.dirstack.pop() if state.dirstack else None
        return
    if targets and targets[0].text == "-":
        state.cwd = state.oldpwd
    elif not targets:
        state.cwd = state.home if inv.name == "cd" else None
    else:
        state.cwd = _cd_target(targets[0].text, state, _cdpath(cmd, prefix, state))
    if inv.name == "pushd":
        state.dirstack.append(before)
    state.oldpwd = before


def _cdpath(cmd: Command, prefix: list[Value], state: ShellState) -> str | None:
    """CDPATH for this command: a prefix assignment, the line's own, or the environment's."""
    for (name, _), value in zip(cmd.assigns, prefix, strict=True):
        if name == "CDPATH":
            return value.text if value.text is not None else _UNKNOWN_CDPATH
    if "CDPATH" in state.vars:
        known = state.vars["CDPATH"]
        return known if known is not None else _UNKNOWN_CDPATH
    return os.environ.get("CDPATH")


def _cd_target(target: str | None, state: ShellState, cdpath: str | None) -> Path | None:
    if target is None:
        return None
    if target.startswith(("/", "~")):
        return resolve(target, state.cwd or state.home, state.home)
    if state.cwd is None:
        return None
    dotted = target in (".", "..") or target.startswith(("./", "../"))
    if cdpath == _UNKNOWN_CDPATH and not dotted:
        return None
    if cdpath and not dotted:
        # A relative name is looked up in each CDPATH entry before the current directory.
        for entry in cdpath.split(":"):
            base = state.cwd if not entry else resolve(entry, state.cwd, state.home)
            if (base / target).is_dir():
                return resolve(target, base, state.home)
    return resolve(target, state.cwd, state.home)
