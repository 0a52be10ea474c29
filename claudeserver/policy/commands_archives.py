"""tar and unzip: where they unpack, the archives they create, the commands tar runs,
and archives that were downloaded.

Unpacking writes below the target directory (judged as a write there), and what comes
out of an archive this command line downloaded is downloaded code too: running it later
in the line is denied like running the download itself.
"""

from __future__ import annotations

from .argv import has_flag, option_values, positionals, texts
from .context import NO_STDIN, Checker, Handler, Invocation
from .model import UNPARSEABLE, Denial
from .paths import lexical, resolve, within
from .shell_state import Value, literal_value

# tar options whose value tar runs as a command.
_TAR_RUNS = (
    "--to-command",
    "--use-compress-program",
    "-I",
    "--info-script",
    "--new-volume-script",
    "-F",
    "--rsh-command",
)


def tar(inv: Invocation, an: Checker) -> None:
    for command in option_values(inv.args, _TAR_RUNS):
        if command.text is None:
            raise Denial(UNPARSEABLE, f"`tar` runs a command computed at run time ({command.raw})")
        an.shell(command.text, inv.state.fork(), NO_STDIN)
    for action in texts(inv.args):
        if action.startswith("--checkpoint-action=exec="):
            an.shell(action.partition("exec=")[2], inv.state.fork(), NO_STDIN)
    first = inv.args[0].text or "" if inv.args else ""
    old_style = bool(first) and not first.startswith("-")
    extracting = has_flag(inv.args, "x", ("--extract", "--get")) or (old_style and "x" in first)
    creating = has_flag(inv.args, "c", ("--create",)) or (old_style and "c" in first)
    if extracting:
        archives = option_values(inv.args, ("-f", "--file"))
        from_network = inv.stdin.kind == "network" and all(a.text == "-" for a in archives)
        downloaded = from_network or any(_downloaded(a, inv) for a in archives)
        for directory in option_values(inv.args, ("-C", "--directory")) or [literal_value(".")]:
            base = (directory.text or "").rstrip("/") or "/"
            inside = f"{base}/__extracted__" if directory.known else None
            an.write(Value(inside, directory.raw), inv.state)
            if downloaded:
                _mark_downloaded(directory, inv)
    if creating:
        for archive in option_values(inv.args, ("-f", "--file")):
            if archive.text != "-":
                an.write(archive, inv.state)


def unzip(inv: Invocation, an: Checker) -> None:
    directories = option_values(inv.args, ("-d",))
    for directory in directories:
        an.write(directory, inv.state)
    if any(_downloaded(a, inv) for a in positionals(inv.args, ("-d",))[:1]):
        for directory in directories or [literal_value(".")]:
            _mark_downloaded(directory, inv)


def _downloaded(archive: Value, inv: Invocation) -> bool:
    state = inv.state
    if archive.text is None or state.cwd is None:
        return False
    path = lexical(archive.text, state.cwd, state.home)
    return any(within(path, d) for d in state.downloaded)


def _mark_downloaded(directory: Value, inv: Invocation) -> None:
    """What is unpacked from a download is downloaded code too."""
    state = inv.state
    if directory.text is not None and state.cwd is not None:
        state.downloaded.add(resolve(directory.text, state.cwd, state.home))


HANDLERS: dict[str, Handler] = {"tar": tar, "unzip": unzip}
