"""Per-command rules: dispatch, checks that apply to every command, and pipeline outputs."""

from __future__ import annotations

import base64
import binascii
import codecs
import re

from . import (
    commands_archives,
    commands_exec,
    commands_files,
    commands_find,
    commands_net,
    commands_system,
)
from .argv import (
    long_flags,
    option_values,
    positionals,
    short_flags,
    short_option_values,
    texts,
)
from .commands_exec import FETCHERS
from .context import ENDLESS_DEVICES, UNKNOWN_STDIN, Checker, Invocation, Stdin
from .model import DEVICE, OUTSIDE_PROJECT, SECRETS, Denial
from .paths import resolve
from .programs import PYTHON
from .shell_state import Value, literal_value
from .shell_walk import mentions

HANDLERS = {
    **commands_files.HANDLERS,
    **commands_find.HANDLERS,
    **commands_archives.HANDLERS,
    **commands_system.HANDLERS,
    **commands_exec.HANDLERS,
}

# Commands whose operands are names, not files they read.
_NO_READ_SCAN = frozenset(
    {"echo", "printf", "cd", "pushd", "mkdir", "ls", "test", "[", "which", "type", "dirname",
     "basename", "realpath", "readlink", "stat", "touch", "rm", "rmdir", "command", "exec"}
)  # fmt: skip
_ENV_DUMPERS = frozenset({"env", "printenv", "set", "export", "declare", "typeset", "compgen"})
_SYSTEM_BIN_DIRS = ("/bin/", "/usr/", "/sbin/", "/opt/", "/snap/")
_PASSTHROUGH = frozenset(
    {"cat", "tac", "head", "tail", "tee", "sort", "uniq", "tr", "sed", "awk", "cut", "rev",
     "grep", "gzip", "gunzip", "zcat", "xz", "bzip2", "base64", "xxd", "openssl", "gpg",
     "iconv", "fold", "dos2unix", "less", "more", "perl", "jq", "column", "paste"}
)  # fmt: skip
_TREE_READERS = frozenset(
    {"rg", "ag", "ack", "find", "fd", "fdfind", "tar", "zip", "7z", "rsync", "scp", "du",
     "tree", "rclone", "restic", "borg"}
)  # fmt: skip
_SIMPLE_WRAPPERS = frozenset({"nice", "nohup", "timeout", "stdbuf", "command", "exec", "time"})


def check(inv: Invocation, an: Checker) -> None:
    name = inv.name
    if name.startswith("mkfs"):
        raise Denial(DEVICE, f"`{name}` formats a filesystem", inv.text)
    # Secrets first; a plain read outside the project is reported only if the command's
    # own rule (privilege, persistence...) has nothing more specific to say.
    unreadable = None if name in _NO_READ_SCAN else _scan_read_args(inv, an)
    if name in FETCHERS:
        _check_exfiltration(inv)
    commands_system.check_bind(inv)
    commands_system.check_publish(inv, an)
    handler = commands_exec.python if PYTHON.match(name) else HANDLERS.get(name)
    if handler is not None:
        handler(inv, an)
    elif "/" in inv.argv0 and not inv.argv0.startswith(_SYSTEM_BIN_DIRS):
        an.run_script(literal_value(inv.argv0), inv.state, "auto", inv.stdin)
    if name in FETCHERS:
        commands_net.check_sending(inv, an)
        _track_download(inv, an)
    if unreadable is not None:
        raise unreadable


def _candidates(text: str) -> list[str]:
    """Paths an argument may name: itself, after `=` (`--file=x`) or `@` (`-d @x`)."""
    found = [text]
    for marker in ("=", "@"):
        if marker in text:
            found.append(text.split(marker, 1)[1])
    return [c for c in found if c and "://" not in c and "\n" not in c and len(c) < 4096]


def _scan_read_args(inv: Invocation, an: Checker) -> Denial | None:
    """Any argument may name a file the command reads: judge each as a read. Raises at
    once for secrets; returns the first read outside the readable places."""
    recursive = _walks_trees(inv)
    outside: Denial | None = None
    for arg in inv.args:
        if arg.text is None:
            continue
        for candidate in _candidates(arg.text):
            if candidate.startswith("-"):
                continue
            try:
                an.read(Value(candidate, arg.raw, arg.glob), inv.state, recursive=recursive)
            except Denial as denial:
                if denial.category != OUTSIDE_PROJECT:
                    raise
                outside = outside or denial
    return outside


def _walks_trees(inv: Invocation) -> bool:
    """Commands that read every file below a directory they are given."""
    if inv.name in _TREE_READERS:
        return True
    flags = short_flags(inv.args) | long_flags(inv.args)
    if inv.name in ("grep", "egrep", "fgrep", "zgrep"):
        return bool(flags & {"r", "R", "--recursive", "--dereference-recursive"})
    if inv.name in ("cp", "ls", "chmod", "chown"):
        return bool(flags & {"r", "R", "a", "--recursive", "--archive"})
    return False


def _check_exfiltration(inv: Invocation) -> None:
    if inv.stdin.kind == "env":
        raise Denial(SECRETS, f"pipes environment variables (secrets) into `{inv.name}`")
    for arg in inv.args:
        if any(mentions(sub.body, _ENV_DUMPERS) for sub in arg.subs):
            raise Denial(SECRETS, f"sends environment variables over the network: {arg.raw}")


def _url_basename(args: tuple[Value, ...]) -> list[str]:
    urls = [t for t in texts(args) if "://" in t]
    names = [u.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1] for u in urls]
    return [n if "." in n or n else "index.html" for n in names]


def _track_download(inv: Invocation, an: Checker) -> None:
    args = inv.args
    outputs: list[Value] = []
    if inv.name == "curl":
        outputs = short_option_values(args, ("-o", "--output"), commands_net.CURL_VALUED)
        if "O" in short_flags(args) or "--remote-name" in texts(args):
            outputs += [literal_value(n) for n in _url_basename(args)]
    elif inv.name == "wget":
        outputs = option_values(args, ("-O", "--output-document"))
        to_stdout = any(t.endswith("O-") for t in texts(args)) or any(
            o.text == "-" for o in outputs
        )
        if not outputs and not to_stdout:
            outputs = [literal_value(n) for n in _url_basename(args)]
    state = inv.state
    for output in outputs:
        if output.text == "-":
            continue
        an.write(output, state)
        if output.text is not None and state.cwd is not None:
            state.downloaded.add(resolve(output.text, state.cwd, state.home))


def _echo_text(args: tuple[Value, ...]) -> str | None:
    words = list(args)
    escapes = False
    while words and words[0].text in ("-n", "-e", "-E", "-ne", "-en"):
        escapes = escapes or "e" in (words[0].text or "")
        words.pop(0)
    if any(w.text is None for w in words):
        return None
    text = " ".join(texts(words))
    return _decode_escapes(text) if escapes else text


def _decode_escapes(text: str) -> str | None:
    try:
        return codecs.decode(text.encode("latin-1", "backslashreplace"), "unicode_escape")
    except (UnicodeDecodeError, ValueError):
        return None


def _printf_text(args: tuple[Value, ...]) -> str | None:
    if not args or any(a.text is None for a in args) or args[0].text == "-v":
        return None
    fmt = _decode_escapes(args[0].text or "")
    if fmt is None:
        return None
    values = iter(texts(args[1:]))
    return re.sub(r"%[-0-9.]*[sbdq]", lambda _m: next(values, ""), fmt).replace("%%", "%")


def _decoded_base64(stdin: Stdin) -> Stdin:
    if stdin.kind != "text" or stdin.text is None:
        return stdin if stdin.kind in ("network", "env") else UNKNOWN_STDIN
    try:
        raw = base64.b64decode("".join(stdin.text.split()), validate=False)
    except (binascii.Error, ValueError):
        return UNKNOWN_STDIN
    return Stdin("text", raw.decode("utf-8", "replace"))


def output_of(inv: Invocation, an: Checker) -> Stdin:
    """What a pipeline stage writes to stdout, so the next stage can be judged by it."""
    name = inv.name
    if name in _SIMPLE_WRAPPERS or name == "env":
        inner = _unwrapped(inv)
        if inner is not None:
            return output_of(inner, an)
        return Stdin("env") if name == "env" else UNKNOWN_STDIN
    if name == "echo":
        text = _echo_text(inv.args)
        return UNKNOWN_STDIN if text is None else Stdin("text", text + "\n")
    if name == "printf":
        text = _printf_text(inv.args)
        return UNKNOWN_STDIN if text is None else Stdin("text", text)
    if name == "yes":
        return Stdin("endless")
    if name in ("printenv", "set", "export", "declare", "typeset") and len(inv.args) <= 1:
        return Stdin("env")
    if name in FETCHERS:
        return Stdin("network")
    if name in _PASSTHROUGH:
        return _passthrough(inv)
    if name in ("find", "ls", "fd") or (name == "git" and texts(inv.args)[:1] == ["ls-files"]):
        return Stdin("paths") if _lists_project_paths(inv, an) else UNKNOWN_STDIN
    return UNKNOWN_STDIN


def _unwrapped(inv: Invocation) -> Invocation | None:
    for index, arg in enumerate(inv.args):
        text = arg.text or ""
        if text.startswith("-") or "=" in text or (inv.name == "timeout" and text[:1].isdigit()):
            continue
        return inv.with_args(inv.args[index:])
    return None


def _passthrough(inv: Invocation) -> Stdin:
    files = positionals(inv.args)
    if inv.name == "base64" and (
        {"d", "D"} & short_flags(inv.args) or "--decode" in texts(inv.args)
    ):
        return _decoded_base64(inv.stdin) if not files else UNKNOWN_STDIN
    if inv.name == "tee" or (inv.name == "cat" and not files):
        return inv.stdin
    if inv.name == "cat" and len(files) == 1 and files[0].text is not None:
        if files[0].text in ENDLESS_DEVICES:
            return Stdin("endless")
        cwd = inv.state.cwd
        if cwd is not None:
            return Stdin("file", path=resolve(files[0].text, cwd, inv.state.home))
    if inv.stdin.kind in ("network", "env") and not files:
        return inv.stdin
    return UNKNOWN_STDIN


def _lists_project_paths(inv: Invocation, an: Checker) -> bool:
    roots = [a for a in positionals(inv.args) if a.text is None or not a.text.startswith("-")]
    if inv.name == "find":
        roots = []
        for arg in inv.args:
            if arg.text is None or arg.text.startswith(("-", "(", "!")):
                break
            roots.append(arg)
    if inv.name == "git":
        roots = []
    try:
        for root in roots or [literal_value(".")]:
            base = (root.text or "").rstrip("/") or "/"
            an.write(Value(f"{base}/__listed__" if root.known else None, root.raw), inv.state)
    except Denial:
        return False
    return True
