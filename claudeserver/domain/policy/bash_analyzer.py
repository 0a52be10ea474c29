"""Walks a parsed command line with the state a shell would have, judging each command."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from . import commands, inline_code
from .commands_exec import dynamic_code
from .context import NO_STDIN, UNKNOWN_STDIN, Invocation, Stdin
from .model import (
    DOWNLOAD_EXEC,
    NETWORK_LISTENER,
    OUTSIDE_PROJECT,
    RESOURCE_BOMB,
    RULE,
    SECRETS,
    UNPARSEABLE,
    Denial,
    PolicyConfig,
)
from .paths import (
    Places,
    check_read,
    check_read_pattern,
    check_write,
    check_write_pattern,
    lexical,
)
from .paths import resolve as resolve_path
from .rules import RuleSet
from .shell_ast import (
    Assign,
    Command,
    FunctionDef,
    Group,
    Loop,
    Node,
    Pipeline,
    Redirect,
    Sequence,
)
from .shell_parse import parse
from .shell_state import ShellState, Value, expand
from .shell_walk import command_name, writes_files_forever
from .shell_walk import commands as all_commands

MAX_NESTING = 8
MAX_LOOP_ITEMS = 16
_RAW_SOCKET = re.compile(r"/dev/(tcp|udp)/")
_WRITE_OPS = frozenset({">", ">>", ">|", "&>", "&>>", "<>"})
_EXTENSIONS = {".py": "python", ".js": "node", ".mjs": "node", ".pl": "perl", ".rb": "ruby"}


@dataclass
class ShellAnalyzer:
    """Implements `context.Checker`; raises the first Denial it finds."""

    config: PolicyConfig
    places: Places
    rules: RuleSet
    deadline: float

    def analyze(self, source: str, cwd: Path) -> None:
        self._run(source, ShellState(cwd=cwd, home=self.places.home), NO_STDIN)

    def shell(self, source: str, state: ShellState, stdin: Stdin) -> None:
        inner = state.fork()
        inner.depth = state.depth + 1
        if inner.depth > MAX_NESTING:
            raise Denial(UNPARSEABLE, "commands nested in strings too deeply to inspect")
        self._run(source, inner, stdin)

    def _run(self, source: str, state: ShellState, stdin: Stdin) -> None:
        if _RAW_SOCKET.search(source):
            raise Denial(NETWORK_LISTENER, "uses /dev/tcp or /dev/udp (a raw network socket)")
        self.node(parse(source), state, stdin)

    def _tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise Denial(UNPARSEABLE, "the command took too long to analyze")

    def node(self, node: Node, state: ShellState, stdin: Stdin) -> None:
        self._tick()
        if isinstance(node, Command):
            self.command(node, state, stdin)
        elif isinstance(node, Assign):
            self.assign(node, state)
        elif isinstance(node, Pipeline):
            self.pipeline(node, state, stdin)
        elif isinstance(node, Sequence):
            for item in node.items:
                self.node(item, state, stdin)
        elif isinstance(node, Group):
            self.group(node, state, stdin)
        elif isinstance(node, FunctionDef):
            self.function(node, state)
        else:
            self.loop(node, state, stdin)

    def _walk_subs(self, values: list[Value], state: ShellState) -> None:
        for value in values:
            for sub in value.subs:
                self.node(sub.body, state.fork(), NO_STDIN)

    def assign(self, node: Assign, state: ShellState) -> None:
        for sub in node.subs:
            self.node(sub.body, state.fork(), NO_STDIN)
        for name, word in node.pairs:
            value = expand(word, state) if word is not None else None
            if value is not None:
                self._walk_subs([value], state)
            state.vars[name] = value.text if value is not None else None
            state.ifs_changed = state.ifs_changed or name == "IFS"

    def pipeline(self, node: Pipeline, state: ShellState, stdin: Stdin) -> None:
        current = stdin
        for stage in node.stages:
            stage_state = state.fork()
            self.node(stage, stage_state, current)
            current = self.output(stage, stage_state, current)

    def output(self, stage: Node, state: ShellState, stdin: Stdin) -> Stdin:
        if not isinstance(stage, Command):
            return UNKNOWN_STDIN
        inv = self._invocation(stage, state, stdin)
        return UNKNOWN_STDIN if inv is None else commands.output_of(inv, self)

    def group(self, node: Group, state: ShellState, stdin: Stdin) -> None:
        body_stdin = self._stdin_from(node.redirects, state, stdin)
        inner = state.fork() if node.subshell else state
        self.node(node.body, inner, body_stdin)
        body = node.body
        endless = (
            isinstance(body, Loop)
            and body.forever
            and not any(command_name(c) in ("break", "exit", "return") for c in all_commands(body))
        )
        self._outputs(node.redirects, state, Stdin("endless") if endless else UNKNOWN_STDIN)

    def function(self, node: FunctionDef, state: ShellState) -> None:
        if any(command_name(c) == node.name for c in all_commands(node.body)):
            raise Denial(RESOURCE_BOMB, f"function `{node.name}` calls itself (fork bomb pattern)")
        state.functions.add(node.name)
        self.node(node.body, state.fork(), NO_STDIN)

    def loop(self, node: Loop, state: ShellState, stdin: Stdin) -> None:
        if node.forever and writes_files_forever(node.body):
            raise Denial(RESOURCE_BOMB, "an endless loop keeps writing to a file")
        if node.condition is not None:
            self.node(node.condition, state, stdin)
        values = [expand(w, state) for w in node.items or ()]
        self._walk_subs(values, state)
        if not node.var:
            self.node(node.body, state, stdin)
            return
        items = [_loop_item(v) for v in values]
        if not items or len(items) > MAX_LOOP_ITEMS or any(i is None for i in items):
            items = [None]
        for item in items:
            state.vars[node.var] = item
            self.node(node.body, state, stdin)

    def _invocation(self, cmd: Command, state: ShellState, stdin: Stdin) -> Invocation | None:
        values = [expand(w, state) for w in cmd.words]
        if not values:
            return None
        name = values[0]
        if name.text is None or not name.literal or name.glob:
            raise Denial(
                UNPARSEABLE,
                f"the command name `{name.raw}` is computed at run time, so what runs "
                "cannot be known in advance",
                cmd.text,
            )
        return Invocation(
            name=name.text.rsplit("/", 1)[-1],
            argv0=name.text,
            args=tuple(values[1:]),
            state=state,
            stdin=self._stdin_from(cmd.redirects, state, stdin),
            text=cmd.text,
        )

    def command(self, cmd: Command, state: ShellState, stdin: Stdin) -> None:
        values = [expand(w, state) for w in cmd.words]
        prefix = [expand(w, state) for _, w in cmd.assigns]
        self._walk_subs(values + prefix, state)
        inv = self._invocation(cmd, state, stdin)
        if inv is None:
            self._outputs(cmd.redirects, state, UNKNOWN_STDIN)
            return
        if inv.name not in state.functions or "/" in inv.argv0:
            self.invocation(inv)
        self._outputs(cmd.redirects, state, commands.output_of(inv, self))
        _change_directory(inv, state)

    def invocation(self, inv: Invocation) -> None:
        spelled = [inv.text, " ".join(a.text or a.raw for a in (_name_value(inv), *inv.args))]
        rule = self.rules.denying("Bash", spelled)
        if rule is not None:
            raise Denial(RULE, f"`{inv.text}` matches the deny rule `{rule.raw}`", inv.text)
        try:
            commands.check(inv, self)
        except Denial as denial:
            denial.command = denial.command or inv.text
            if denial.category == RULE or not self.rules.lifts_bash(denial, spelled):
                raise

    def _stdin_from(
        self, redirects: tuple[Redirect, ...], state: ShellState, stdin: Stdin
    ) -> Stdin:
        for redirect in redirects:
            if redirect.content is not None:
                value = expand(redirect.content, state)
                self._walk_subs([value], state)
                stdin = Stdin("text", value.text) if value.known else UNKNOWN_STDIN
            elif redirect.op in ("<", "<>") and redirect.target is not None:
                target = expand(redirect.target, state)
                self._walk_subs([target], state)
                self.read(target, state)
                stdin = UNKNOWN_STDIN
                if target.text is not None and state.cwd is not None:
                    stdin = Stdin("file", path=resolve_path(target.text, state.cwd, state.home))
        return stdin

    def _outputs(self, redirects: tuple[Redirect, ...], state: ShellState, produced: Stdin) -> None:
        for redirect in redirects:
            if redirect.target is None or redirect.op not in _WRITE_OPS | {">&"}:
                continue
            target = expand(redirect.target, state)
            self._walk_subs([target], state)
            if redirect.op == ">&" and (target.text or "").rstrip("-").isdigit():
                continue
            if target.text == "-" or (redirect.op == ">&" and target.text == "-"):
                continue
            self.write(target, state)
            if target.text in (None, "/dev/null") or state.cwd is None:
                continue
            if produced.kind == "endless" and redirect.fd in (None, "1"):
                raise Denial(RESOURCE_BOMB, f"an endless stream is written to {target.text}")
            path = resolve_path(target.text, state.cwd, state.home)
            if redirect.fd not in (None, "1"):
                continue
            state.scripts[path] = produced.text if produced.kind == "text" else None
            if produced.kind == "network":
                state.downloaded.add(path)

    def write(self, value: Value, state: ShellState, *, deleting: bool = False) -> None:
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
            else (self.places.project if value.text.startswith(("/", "~")) else None)
        )
        if base is None:
            raise Denial(
                OUTSIDE_PROJECT,
                f"{verb} `{value.raw}` relative to a directory only known at run time",
                value.raw,
            )
        text = _through_links(value.text, base, state)
        if value.glob:
            check_write_pattern(text, base, self.places, deleting=deleting)
        else:
            check_write(text, base, self.places, deleting=deleting)

    def read(self, value: Value, state: ShellState) -> None:
        if value.text is None:
            return
        base = state.cwd or self.places.project
        if state.cwd is None and not value.text.startswith(("/", "~")):
            return
        text = _through_links(value.text, base, state)
        if value.glob:
            check_read_pattern(text, base, self.places)
        else:
            check_read(text, base, self.places)

    def run_script(self, value: Value, state: ShellState, language: str) -> None:
        if value.text is None:
            raise dynamic_code(value, self, "running a script")
        if state.cwd is None and not value.text.startswith(("/", "~")):
            return
        path = resolve_path(value.text, state.cwd or self.places.project, state.home)
        self.read(value, state)
        if path in state.downloaded:
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
        self.code(_language(language, path, content), content, state)

    def run_stdin(self, stdin: Stdin, state: ShellState, language: str) -> None:
        if stdin.kind == "text" and stdin.text is not None:
            self.code(language, stdin.text, state)
        elif stdin.kind == "file" and stdin.path is not None:
            self.run_script(Value(str(stdin.path), str(stdin.path)), state, language)
        elif stdin.kind == "network":
            raise Denial(DOWNLOAD_EXEC, f"pipes downloaded content into a {language} interpreter")
        elif stdin.kind != "none":
            raise Denial(
                DOWNLOAD_EXEC,
                f"pipes generated content that cannot be inspected into a {language} interpreter",
            )

    def code(self, language: str, code: str, state: ShellState) -> None:
        if language == "shell":
            self.shell(code, state, NO_STDIN)
            return
        if _RAW_SOCKET.search(code):
            raise Denial(NETWORK_LISTENER, "uses /dev/tcp or /dev/udp (a raw network socket)")
        for finding in inline_code.scan(language, code):
            self._finding(finding, language, state)

    def _finding(self, finding: inline_code.Finding, language: str, state: ShellState) -> None:
        text = finding.text
        if finding.kind == "obfuscated":
            raise Denial(UNPARSEABLE, f"{language} code builds what it runs ({finding.snippet})")
        if finding.kind == "exfiltration":
            raise Denial(SECRETS, f"{language} code sends environment variables over the network")
        if finding.kind == "listener":
            raise Denial(NETWORK_LISTENER, f"{language} code opens a socket shell or listener")
        if finding.kind in ("delete", "write"):
            value = Value(text, text or finding.snippet)
            self.write(value, state, deleting=finding.kind == "delete")
        elif finding.kind == "shell":
            if text is None:
                raise Denial(
                    UNPARSEABLE, f"{language} code runs a computed command ({finding.snippet})"
                )
            self.shell(text, state, NO_STDIN)
        elif finding.kind == "argv" and text is not None:
            self.shell(" ".join(_quote(a) for a in text.split("\0")), state, NO_STDIN)
        elif finding.kind == "literal" and text and ("/" in text or text.startswith("~")):
            self.read(Value(text, text), state)


def _through_links(text: str, base: Path, state: ShellState) -> str:
    if not state.links:
        return text
    spelled = lexical(text, base, state.home)
    followed = state.follow_links(spelled)
    return text if followed == spelled else str(followed)


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\"'\"'") + "'"


def _name_value(inv: Invocation) -> Value:
    return Value(inv.argv0, inv.argv0)


def _loop_item(value: Value) -> str | None:
    if value.text is None:
        return None
    if value.glob:
        prefix = value.text.rsplit("/", 1)[0] if "/" in value.text else "."
        return f"{prefix}/__glob_item__"
    return value.text


def _language(requested: str, path: Path, content: str) -> str:
    if requested != "auto":
        return requested
    first_line = content.split("\n", 1)[0]
    for name in ("python", "node", "perl", "ruby"):
        if first_line.startswith("#!") and name in first_line:
            return name
    return _EXTENSIONS.get(path.suffix, "shell")


def _change_directory(inv: Invocation, state: ShellState) -> None:
    if inv.name not in ("cd", "pushd", "popd"):
        return
    targets = [a for a in inv.args if (a.text or "") not in ("-L", "-P", "-e", "--")]
    if inv.name == "popd" or (targets and targets[0].text in (None, "-")):
        state.cwd = None
        return
    target = targets[0].text if targets else str(state.home)
    if target is not None and (state.cwd is not None or target.startswith(("/", "~"))):
        state.cwd = resolve_path(target, state.cwd or state.home, state.home)
    else:
        state.cwd = None
