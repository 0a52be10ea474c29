"""Rules for commands that delete, copy, move, link or write files, change their
permissions, or fill the disk.

Each names the files it changes on its command line, so each is judged by those operands
(`DESTRUCTIVE` lists them for xargs, whose operands cannot be seen). find and tar/unzip,
which reach files the line does not name, have modules of their own (commands_find,
commands_archives).
"""

from __future__ import annotations

import re

from . import programs, sed_script
from .argv import has_flag, option_values, positionals, short_flags, short_option_values, texts
from .context import ENDLESS_DEVICES, NO_STDIN, Checker, Handler, Invocation
from .model import (
    DEVICE,
    OUTSIDE_PROJECT,
    PERSISTENCE,
    PRIVILEGE,
    RESOURCE_BOMB,
    UNPARSEABLE,
    Denial,
)
from .paths import lexical, within
from .shell_state import Value, literal_value

_SETID_SYMBOLIC = re.compile(r"[+=][rwxXt]*s")
_SETID_NUMERIC = re.compile(r"^[0-7]?[2-7][0-7]{3}$")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([KMGTPE]?)(i?B?)$", re.IGNORECASE)
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40, "P": 2**50, "E": 2**60}
_HUGE_BYTES = 2**30


def delete_all(inv: Invocation, an: Checker) -> None:
    for target in positionals(inv.args):
        an.write(target, inv.state, deleting=True)


def write_all(inv: Invocation, an: Checker, takes_value: tuple[str, ...] = ()) -> None:
    for target in positionals(inv.args, takes_value):
        an.write(target, inv.state)


def _copy_like(inv: Invocation, an: Checker, *, moving: bool) -> None:
    valued = ("-S", "--suffix", "-t", "--target-directory", "-m", "-o", "-g", "--mode")
    operands = positionals(inv.args, valued)
    target_dirs = option_values(inv.args, ("-t", "--target-directory"))
    sources = operands if target_dirs else operands[:-1]
    destinations = target_dirs or operands[-1:]
    if moving:
        for source in sources:
            an.write(source, inv.state, deleting=True)
    for destination in destinations:
        an.write(destination, inv.state)
        _carry(inv, sources, destination, into_dir=bool(target_dirs) or len(sources) > 1)


def _carry(inv: Invocation, sources: list[Value], destination: Value, *, into_dir: bool) -> None:
    """What a copy or link inherits from its source: being a downloaded file, or being an
    interpreter under another name."""
    state = inv.state
    cwd = state.cwd
    if cwd is None or destination.text is None:
        return
    target = lexical(destination.text, cwd, state.home)
    for source in sources:
        if source.text is None:
            state.programs[target] = None
            continue
        origin = lexical(source.text, cwd, state.home)
        landed = target / origin.name if into_dir or target.is_dir() else target
        if any(within(origin, d) for d in state.downloaded):
            state.downloaded.add(landed)
        program = programs.program_name(origin.name) or programs.identify(origin)
        if program is not None:
            state.programs[landed] = program


def mv(inv: Invocation, an: Checker) -> None:
    _copy_like(inv, an, moving=True)


def cp(inv: Invocation, an: Checker) -> None:
    _copy_like(inv, an, moving=False)


def install(inv: Invocation, an: Checker) -> None:
    for mode in option_values(inv.args, ("-m", "--mode")):
        _check_mode(mode)
    if has_flag(inv.args, "d", ("--directory",)):
        write_all(inv, an, ("-m", "-o", "-g", "--mode", "--owner", "--group"))
        return
    _copy_like(inv, an, moving=False)


def ln(inv: Invocation, an: Checker) -> None:
    operands = positionals(inv.args, ("-t", "--target-directory", "-S", "--suffix"))
    target_dirs = option_values(inv.args, ("-t", "--target-directory"))
    if target_dirs:
        links = target_dirs
    elif len(operands) >= 2:
        links = operands[-1:]
    else:
        name = (operands[0].text or "").rstrip("/").rsplit("/", 1)[-1] if operands else ""
        links = [literal_value(name or ".")]
    for link in links:
        an.write(link, inv.state)
        _carry(inv, operands[:-1] if len(operands) >= 2 else operands[:1], link, into_dir=False)
    state = inv.state
    symbolic = "s" in short_flags(inv.args) or "--symbolic" in texts(inv.args)
    if symbolic and len(operands) >= 2 and state.cwd is not None:
        target_text, link_text = operands[0].text, links[0].text
        if target_text is not None and link_text is not None:
            link_path = lexical(link_text, state.cwd, state.home)
            state.links[link_path] = lexical(target_text, link_path.parent, state.home)


def _check_mode(mode: Value) -> None:
    text = mode.text or ""
    if _SETID_SYMBOLIC.search(text) or _SETID_NUMERIC.match(text):
        raise Denial(PRIVILEGE, f"`{text}` sets the setuid/setgid bit", text)


def _as_privilege(an: Checker, inv: Invocation, targets: list[Value]) -> None:
    for target in targets:
        try:
            an.write(target, inv.state)
        except Denial as denial:
            if denial.category not in (OUTSIDE_PROJECT, PERSISTENCE):
                raise
            raise Denial(
                PRIVILEGE,
                f"`{inv.name}` changes permissions or ownership outside the project "
                f"({denial.subject})",
                denial.subject,
            ) from denial


def chmod(inv: Invocation, an: Checker) -> None:
    operands = positionals(inv.args)
    # A mode such as `-x` looks like an option, so take it from the raw arguments.
    mode_args = [a for a in inv.args if a.text and re.match(r"^[-+=ugoa]*[-+=][rwxXst]+$", a.text)]
    reference = option_values(inv.args, ("--reference",))
    operands = [o for o in operands if all(o is not m for m in mode_args)]
    if not reference and operands and not mode_args:
        mode_args, operands = [operands[0]], operands[1:]
    for mode in mode_args:
        _check_mode(mode)
    _as_privilege(an, inv, operands)


def chown(inv: Invocation, an: Checker) -> None:
    operands = positionals(inv.args)
    if not option_values(inv.args, ("--reference",)):
        operands = operands[1:]
    _as_privilege(an, inv, operands)


def sed(inv: Invocation, an: Checker) -> None:
    in_place = "i" in short_flags(inv.args) or "--in-place" in {
        t.partition("=")[0] for t in texts(inv.args)
    }
    valued = ("-e", "--expression", "-f", "--file", "-l", "--line-length")
    operands = positionals(inv.args, valued)
    scripts = option_values(inv.args, ("-e", "--expression"))
    if not scripts and not option_values(inv.args, ("-f", "--file")):
        scripts, operands = operands[:1], operands[1:]
    if "--sandbox" not in texts(inv.args):
        for script in scripts:
            _sed_effects(script, inv, an)
        for script_file in option_values(inv.args, ("-f", "--file")):
            an.run_script(script_file, inv.state, "sed")
    if in_place:
        for target in operands:
            an.write(target, inv.state)


def _sed_effects(script: Value, inv: Invocation, an: Checker) -> None:
    """`e` runs commands, `w` writes and `r` reads files from inside a sed script."""
    for effect in sed_script.effects(script.text or ""):
        if effect.kind == "run" and not effect.text:
            raise Denial(UNPARSEABLE, "sed's `e` runs the edited text as a shell command", inv.text)
        if effect.kind == "run":
            an.shell(effect.text, inv.state.fork(), NO_STDIN)
        elif effect.kind == "write" and effect.text not in ("/dev/stdout", "/dev/stderr"):
            an.write(literal_value(effect.text), inv.state)
        elif effect.kind == "read":
            an.read(literal_value(effect.text), inv.state)


def _size_bytes(text: str) -> int | None:
    match = _SIZE.match(text.strip())
    if match is None:
        return None
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def fallocate(inv: Invocation, an: Checker) -> None:
    for size in option_values(inv.args, ("-l", "--length")):
        count = _size_bytes(size.text or "")
        if count is None or count >= _HUGE_BYTES:
            raise Denial(RESOURCE_BOMB, f"allocates a huge file (`{size.raw}`)", inv.text)
    write_all(inv, an, ("-l", "--length", "-o", "--offset"))


def truncate(inv: Invocation, an: Checker) -> None:
    for size in option_values(inv.args, ("-s", "--size")):
        count = _size_bytes((size.text or "").lstrip("+<>/%"))
        if count is None or count >= _HUGE_BYTES:
            raise Denial(RESOURCE_BOMB, f"creates a huge file (`{size.raw}`)", inv.text)
    write_all(inv, an, ("-s", "--size", "-r", "--reference"))


def dd(inv: Invocation, an: Checker) -> None:
    operands = {}
    for arg in inv.args:
        key, eq, value = (arg.text or arg.raw).partition("=")
        if eq:
            operands[key] = Value(value if arg.known else None, arg.raw)
    source = operands.get("if")
    target = operands.get("of")
    if source is not None:
        an.read(source, inv.state)
    if target is None:
        return
    an.write(target, inv.state)
    endless = source is not None and source.text in ENDLESS_DEVICES
    if endless and "count" not in operands and target.text != "/dev/null":
        raise Denial(RESOURCE_BOMB, "`dd` from an endless source without count= fills the disk")
    block = _size_bytes(
        (operands.get("bs") or operands.get("obs") or literal_value("512")).text or ""
    )
    count = (operands.get("count") or literal_value("0")).text or ""
    if block is not None and count.isdigit() and block * int(count) >= _HUGE_BYTES:
        raise Denial(RESOURCE_BOMB, f"`dd` writes {block * int(count)} bytes, a huge file")


def head(inv: Invocation, an: Checker) -> None:
    """`head -c 100G /dev/zero > big` fills the disk as surely as `fallocate`."""
    files = [f.text for f in positionals(inv.args, ("-c", "--bytes", "-n", "--lines"))]
    endless = inv.stdin.kind == "endless" or any(f in ENDLESS_DEVICES for f in files)
    for size in short_option_values(inv.args, ("-c", "--bytes")):
        count = _size_bytes((size.text or "").lstrip("+-"))
        if endless and (count is None or count >= _HUGE_BYTES):
            raise Denial(RESOURCE_BOMB, f"copies `{size.raw}` bytes of an endless source", inv.text)


def mknod(inv: Invocation, an: Checker) -> None:
    raise Denial(DEVICE, "`mknod` creates device nodes", inv.text)


def rsync(inv: Invocation, an: Checker) -> None:
    for command in option_values(inv.args, ("-e", "--rsh", "--rsync-path")):
        if command.text is None:
            raise Denial(UNPARSEABLE, f"`{inv.name}` runs a command computed at run time")
        an.shell(command.text, inv.state.fork(), NO_STDIN)
    operands = positionals(inv.args, ("-e", "--rsh", "--exclude", "--include", "--filter"))
    deleting = any((t or "").startswith("--delete") for t in texts(inv.args))
    for destination in operands[-1:] if len(operands) >= 2 else []:
        if ":" not in (destination.text or ""):
            an.write(destination, inv.state, deleting=deleting)


HANDLERS: dict[str, Handler] = {
    "rm": delete_all,
    "rmdir": delete_all,
    "unlink": delete_all,
    "shred": delete_all,
    "srm": delete_all,
    "mv": mv,
    "cp": cp,
    "install": install,
    "ln": ln,
    "link": ln,
    "chmod": chmod,
    "chown": chown,
    "chgrp": chown,
    "chattr": chown,
    "setfacl": chown,
    "touch": lambda inv, an: write_all(inv, an, ("-r", "--reference", "-d", "-t", "--date")),
    "mkdir": lambda inv, an: write_all(inv, an, ("-m", "--mode")),
    "mkfifo": lambda inv, an: write_all(inv, an, ("-m", "--mode")),
    "tee": write_all,
    "sed": sed,
    "gsed": sed,
    "fallocate": fallocate,
    "truncate": truncate,
    "dd": dd,
    "mknod": mknod,
    "head": head,
    "tail": head,
    "rsync": rsync,
    "scp": rsync,
}

# Commands whose operands are paths they modify: with unknown operands (xargs input,
# unresolved variables) they are refused.
DESTRUCTIVE = frozenset(HANDLERS) - {"touch", "mkdir", "mkfifo", "head", "tail"}
