"""Code a command line runs that is not itself on the line: scripts, what is piped into an
interpreter, and inline code in other languages.

A script the same line wrote (`echo 'rm -rf ~' > x.sh && sh x.sh`) is judged by the text
written to it, in the language its first line or name says; one the line downloaded, or
wrote with content that cannot be seen, is refused (a script already on disk is judged as
a file read). Text piped into an interpreter is judged the same way. Shell code is
walked like the line itself; code in other languages is scanned by inline_code, and what
it finds (files written or deleted, commands run, hosts sent to) is judged here like the
shell commands that would do the same.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from . import inline_code, network
from .commands_exec import dynamic_code
from .context import NO_STDIN, Checker, Stdin
from .model import DOWNLOAD_EXEC, EXFILTRATION, NETWORK_LISTENER, SECRETS, UNPARSEABLE, Denial
from .paths import resolve, within
from .shell_state import ShellState, Value

_STDIN_PATHS = frozenset({"/dev/stdin", "/dev/fd/0", "/proc/self/fd/0", "-"})
_EXTENSIONS = {".py": "python", ".js": "node", ".mjs": "node", ".pl": "perl", ".rb": "ruby"}


def run_script(value: Value, state: ShellState, language: str, stdin: Stdin, an: Checker) -> None:
    """`language` runs the script `value` names ("auto": whatever the script says)."""
    if value.text is None:
        raise dynamic_code(value, an, "running a script")
    if state.cwd is None and not value.text.startswith(("/", "~")):
        return
    if value.text in _STDIN_PATHS:
        an.run_stdin(stdin, state, language)
        return
    path = resolve(value.text, state.cwd or an.places.project, state.home)
    an.read(value, state)
    if any(within(path, d) for d in state.downloaded):
        raise Denial(DOWNLOAD_EXEC, f"runs {path}, which this command downloaded", str(path))
    if path not in state.scripts:
        return
    content = state.scripts[path]
    if content is None:
        raise Denial(
            DOWNLOAD_EXEC,
            f"runs {path}, which this command generated with content that cannot be inspected",
            str(path),
        )
    an.code(_language(language, path, content), content, state)


def run_stdin(stdin: Stdin, state: ShellState, language: str, an: Checker) -> None:
    """`language` runs what flows into its standard input."""
    if stdin.kind == "text" and stdin.text is not None:
        an.code(language, stdin.text, state)
    elif stdin.kind == "file" and stdin.path is not None:
        an.run_script(Value(str(stdin.path), str(stdin.path)), state, language)
    elif stdin.kind == "network":
        raise Denial(DOWNLOAD_EXEC, f"pipes downloaded content into a {language} interpreter")
    elif stdin.kind != "none":
        raise Denial(
            DOWNLOAD_EXEC,
            f"pipes generated content that cannot be inspected into a {language} interpreter",
        )


def code(language: str, text: str, state: ShellState, an: Checker) -> None:
    """`text` run as `language` code."""
    if language == "shell":
        an.shell(text, state, NO_STDIN)
        return
    network.check_raw_socket(text)
    for finding in inline_code.scan(language, text):
        _finding(finding, language, state, an)


def _finding(finding: inline_code.Finding, language: str, state: ShellState, an: Checker) -> None:
    text = finding.text
    if finding.kind == "obfuscated":
        raise Denial(UNPARSEABLE, f"{language} code builds what it runs ({finding.snippet})")
    if finding.kind == "exfiltration":
        raise Denial(SECRETS, f"{language} code sends environment variables over the network")
    if finding.kind == "listener":
        raise Denial(NETWORK_LISTENER, f"{language} code opens a socket shell or listener")
    if finding.kind == "upload":
        _upload(text, language, an)
    if finding.kind in ("delete", "write"):
        value = Value(text, text or finding.snippet)
        an.write(value, state, deleting=finding.kind == "delete")
    elif finding.kind == "shell":
        if text is None:
            raise Denial(
                UNPARSEABLE, f"{language} code runs a computed command ({finding.snippet})"
            )
        an.shell(text, state, NO_STDIN)
    elif finding.kind == "argv" and text is not None:
        an.shell(shlex.join(text.split("\0")), state, NO_STDIN)
    elif finding.kind == "literal" and text and ("/" in text or text.startswith("~")):
        an.read(Value(text, text), state)


def _upload(targets: str | None, language: str, an: Checker) -> None:
    """Code that sends data or reads local data and talks to the network: every host it
    names must be the machine itself or on the fetch allowlist."""
    hosts = [network.host_of(t) for t in (targets or "").split("\0") if t]
    outside = [h for h in hosts if not network.may_receive(h, an.config)]
    if hosts and not outside:
        return
    where = outside[0] if outside else "a host only known at run time"
    raise Denial(
        EXFILTRATION,
        f"{language} code sends data to {where}, which is not on the session's "
        "`fetch_domains` list",
        hard=True,
    )


def _language(requested: str, path: Path, content: str) -> str:
    if requested != "auto":
        return requested
    first_line = content.split("\n", 1)[0]
    for name in ("python", "node", "perl", "ruby"):
        if first_line.startswith("#!") and name in first_line:
            return name
    return _EXTENSIONS.get(path.suffix, "shell")
