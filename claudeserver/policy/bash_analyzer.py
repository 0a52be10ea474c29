"""Walks a parsed command line with the state a shell would have, judging each command."""

from __future__ import annotations

import os
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import commands, grey_zone, inline_code, network, programs
from .commands_exec import dynamic_code
from .context import ENDLESS_DEVICES, NO_STDIN, UNKNOWN_STDIN, Invocation, Stdin
from .git_command import main_args
from .model import (
    ASK_RULE,
    DOWNLOAD_EXEC,
    EXFILTRATION,
    NETWORK_LISTENER,
    OUTSIDE_PROJECT,
    RESOURCE_BOMB,
    RULE,
    SECRETS,
    UNPARSEABLE,
    Ask,
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
    within,
)
from .paths import resolve as resolve_path
from .rules import RuleSet, naming
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
from .shell_state import ShellState, Value, expand, shell_source
from .shell_walk import alias_expandable, leaves, mentions, writes_files_forever

MAX_NESTING = 8
MAX_LOOP_ITEMS = 16
# Variables whose value a program runs as a shell command.
COMMAND_VARIABLES = frozenset(
    {"GIT_SSH_COMMAND", "GIT_SSH", "GIT_PAGER", "GIT_EDITOR", "GIT_SEQUENCE_EDITOR",
     "GIT_EXTERNAL_DIFF", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_PROXY_COMMAND", "PAGER",
     "MANPAGER", "EDITOR", "VISUAL", "LESSOPEN", "LESSCLOSE", "BASH_ENV", "ENV",
     "PROMPT_COMMAND", "SYSTEMD_PAGER", "PSQL_PAGER", "BROWSER"}
)  # fmt: skip
_UNKNOWN_CDPATH = "\0"
_STDIN_PATHS = frozenset({"/dev/stdin", "/dev/fd/0", "/proc/self/fd/0", "-"})
_WRITE_OPS = frozenset({">", ">>", ">|", "&>", "&>>", "<>"})
_EXTENSIONS = {".py": "python", ".js": "node", ".mjs": "node", ".pl": "perl", ".rb": "ruby"}


@dataclass
class ShellAnalyzer:
    """Implements `context.Checker`; raises the first Denial it finds, and collects the
    grey-zone commands a person may be asked about (with the denial each gets when nobody
    is, None when it is allowed)."""

    config: PolicyConfig
    places: Places
    rules: RuleSet
    deadline: float
    asks: list[tuple[Ask, Denial | None]] = field(default_factory=list)

    def analyze(self, source: str, cwd: Path) -> None:
        self._run(source, ShellState(cwd=cwd, home=self.places.home), NO_STDIN)

    def shell(self, source: str, state: ShellState, stdin: Stdin) -> None:
        inner = state.fork()
        inner.depth = state.depth + 1
        if inner.depth > MAX_NESTING:
            raise Denial(UNPARSEABLE, "commands nested in strings too deeply to inspect")
        self._run(source, inner, stdin)

    def _run(self, source: str, state: ShellState, stdin: Stdin) -> None:
        network.check_raw_socket(source)
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
                self._command_variable(name, value, state)
            state.vars[name] = value.text if value is not None else None
            state.ifs_changed = state.ifs_changed or name == "IFS"

    def _command_variable(self, name: str, value: Value, state: ShellState) -> None:
        """Variables whose value programs run as a command (GIT_SSH_COMMAND, PAGER...)."""
        if name not in COMMAND_VARIABLES:
            return
        if value.text is None:
            raise Denial(UNPARSEABLE, f"`{name}` is set to a command computed at run time")
        if value.text:
            self.shell(value.text, state, NO_STDIN)

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
        endless = isinstance(body, Loop) and body.forever and not leaves(body)
        self._outputs(node.redirects, state, Stdin("endless") if endless else UNKNOWN_STDIN)

    def function(self, node: FunctionDef, state: ShellState) -> None:
        if mentions(node.body, (node.name,)):
            raise Denial(RESOURCE_BOMB, f"function `{node.name}` calls itself (fork bomb pattern)")
        state.functions.add(node.name)
        self.node(node.body, state.fork(), NO_STDIN)

    def loop(self, node: Loop, state: ShellState, stdin: Stdin) -> None:
        if node.forever and writes_files_forever(node.body):
            raise Denial(RESOURCE_BOMB, "an endless loop keeps writing to a file")
        if node.forever and node.background:
            raise Denial(
                RESOURCE_BOMB, "an endless loop keeps starting background processes (a fork bomb)"
            )
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
        for (name, _), value in zip(cmd.assigns, prefix, strict=True):
            self._command_variable(name, value, state)
        inv = self._invocation(cmd, state, stdin)
        if inv is None:
            self._outputs(cmd.redirects, state, UNKNOWN_STDIN)
            return
        if inv.argv0 in state.aliases and alias_expandable(cmd):
            # Claude Code's shell expands aliases: judge what the alias stands for (in
            # which the alias itself is not expanded again).
            tail = shell_source(inv.args)
            inner = state.fork()
            expansion = inner.aliases.pop(inv.argv0)
            self.shell(f"{expansion} {tail}", inner, inv.stdin)
        elif inv.name not in state.functions or "/" in inv.argv0:
            self.invocation(inv)
        self._outputs(cmd.redirects, state, commands.output_of(inv, self))
        _change_directory(inv, state, _cdpath(cmd, prefix, state))

    def _as_program(self, inv: Invocation) -> Invocation:
        """`./py -c ...` where ./py is a copy or link of python is judged as python."""
        state = inv.state
        path: Path | None = None
        if "/" in inv.argv0 and (state.cwd is not None or inv.argv0.startswith("/")):
            path = lexical(inv.argv0, state.cwd or self.places.project, state.home)
        elif "PATH" in state.vars:
            path = next((p for p in state.programs if p.name == inv.name), None)
        if path is None:
            return inv
        if path in state.programs:
            program = state.programs[path]
            if program is None:
                raise Denial(
                    UNPARSEABLE,
                    f"runs {path}, a copy of a program only known at run time",
                    inv.text,
                )
        else:
            program = programs.identify(path)
        if program is None or program == inv.name:
            return inv
        return Invocation(program, program, inv.args, state, inv.stdin, inv.text)

    def invocation(self, inv: Invocation) -> None:
        inv = self._as_program(inv)
        spelled = _spellings(inv)
        rule = self.rules.denying("Bash", spelled)
        if rule is not None:
            raise Denial(RULE, f"`{inv.text}` matches the deny rule `{rule.raw}`", inv.text)
        try:
            commands.check(inv, self)
        except Denial as denial:
            denial.command = denial.command or inv.text
            if denial.category == RULE or not self.rules.lifts_bash(denial, spelled):
                raise
        for category, question in grey_zone.questions(inv, self.config, self.places):
            self.ask(inv, category, question)
        rule = self.rules.asking("Bash", spelled)
        if rule is not None:
            question = f"`{inv.text}` matches the ask rule `{rule.raw}`"
            self.asks.append((Ask(ASK_RULE, question, naming("Bash", inv.text)), None))

    def ask(
        self, inv: Invocation, category: str, question: str, denial: Denial | None = None
    ) -> None:
        """A grey-zone command; `denial` is its answer when nobody is asked (None: allowed).
        An allow rule or a person's remembered answer naming it settles it: no ask."""
        spelled = _spellings(inv)
        if self.rules.approving("Bash", spelled):
            return
        if denial is None and self.rules.allowing("Bash", spelled):
            return
        if denial is not None:
            denial.command = denial.command or inv.text
            if self.rules.lifts_bash(denial, spelled):
                return
        self.asks.append((Ask(category, question, naming("Bash", inv.text)), denial))

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
                if target.text in ENDLESS_DEVICES:
                    stdin = Stdin("endless")
                elif target.text is not None and state.cwd is not None:
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
        self._deny_path_rule("Edit", text, base, state)
        if value.glob:
            check_write_pattern(text, base, self.places, deleting=deleting)
        else:
            check_write(text, base, self.places, deleting=deleting)

    def read(self, value: Value, state: ShellState, *, recursive: bool = False) -> None:
        if value.text is None:
            return
        base = state.cwd or self.places.project
        if state.cwd is None and not value.text.startswith(("/", "~")):
            return
        text = _through_links(value.text, base, state)
        self._deny_path_rule("Read", text, base, state)
        try:
            if value.glob:
                check_read_pattern(text, base, self.places, recursive=recursive)
            else:
                check_read(text, base, self.places, recursive=recursive)
        except Denial as denial:
            path = Path(denial.subject) if denial.subject.startswith("/") else None
            if path is None or not self.rules.lifts_path("Read", denial, path):
                raise

    def _deny_path_rule(self, tool: str, text: str, base: Path, state: ShellState) -> None:
        """`Read(...)`/`Edit(...)` deny rules hold for shell commands too."""
        if not self.rules.deny:
            return
        path = resolve_path(text, base, state.home)
        rule = self.rules.denying(tool, [path])
        if rule is not None:
            raise Denial(RULE, f"touches {path}, which matches the deny rule `{rule.raw}`", text)

    def run_script(
        self, value: Value, state: ShellState, language: str, stdin: Stdin = UNKNOWN_STDIN
    ) -> None:
        if value.text is None:
            raise dynamic_code(value, self, "running a script")
        if state.cwd is None and not value.text.startswith(("/", "~")):
            return
        if value.text in _STDIN_PATHS:
            self.run_stdin(stdin, state, language)
            return
        path = resolve_path(value.text, state.cwd or self.places.project, state.home)
        self.read(value, state)
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
        network.check_raw_socket(code)
        for finding in inline_code.scan(language, code):
            self._finding(finding, language, state)

    def _upload(self, targets: str | None, language: str) -> None:
        """Code that sends data or reads local data and talks to the network: every host it
        names must be the machine itself or on the fetch allowlist."""
        hosts = [network.host_of(t) for t in (targets or "").split("\0") if t]
        outside = [h for h in hosts if not network.may_receive(h, self.config)]
        if hosts and not outside:
            return
        where = outside[0] if outside else "a host only known at run time"
        raise Denial(
            EXFILTRATION,
            f"{language} code sends data to {where}, which is not on the session's "
            "`fetch_domains` list",
            hard=True,
        )

    def _finding(self, finding: inline_code.Finding, language: str, state: ShellState) -> None:
        text = finding.text
        if finding.kind == "obfuscated":
            raise Denial(UNPARSEABLE, f"{language} code builds what it runs ({finding.snippet})")
        if finding.kind == "exfiltration":
            raise Denial(SECRETS, f"{language} code sends environment variables over the network")
        if finding.kind == "listener":
            raise Denial(NETWORK_LISTENER, f"{language} code opens a socket shell or listener")
        if finding.kind == "upload":
            self._upload(text, language)
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
            self.shell(shlex.join(text.split("\0")), state, NO_STDIN)
        elif finding.kind == "literal" and text and ("/" in text or text.startswith("~")):
            self.read(Value(text, text), state)


def _cdpath(cmd: Command, prefix: list[Value], state: ShellState) -> str | None:
    """CDPATH for this command: a prefix assignment, the line's own, or the environment's."""
    for (name, _), value in zip(cmd.assigns, prefix, strict=True):
        if name == "CDPATH":
            return value.text if value.text is not None else _UNKNOWN_CDPATH
    if "CDPATH" in state.vars:
        known = state.vars["CDPATH"]
        return known if known is not None else _UNKNOWN_CDPATH
    return os.environ.get("CDPATH")


def _spellings(inv: Invocation) -> list[str]:
    """The ways a deny rule may name this command: as typed, by its full path, by its bare
    name (`/usr/bin/curl` is `curl`), and for git without global options (`git -c k=v
    commit` is `git commit`)."""
    args = [a.text or a.raw for a in inv.args]
    spelled = [inv.text, " ".join([inv.argv0, *args]), " ".join([inv.name, *args])]
    if inv.name == "git":
        spelled.append(" ".join(["git", *(a.text or a.raw for a in main_args(list(inv.args)))]))
    return list(dict.fromkeys(spelled))


def _through_links(text: str, base: Path, state: ShellState) -> str:
    if not state.links:
        return text
    spelled = lexical(text, base, state.home)
    followed = state.follow_links(spelled)
    return text if followed == spelled else str(followed)


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


def _change_directory(inv: Invocation, state: ShellState, cdpath: str | None) -> None:
    """Follow `cd`/`pushd`/`popd` like the shell, including `cd -` and CDPATH."""
    if inv.name not in ("cd", "pushd", "popd"):
        return
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
        state.cwd = _cd_target(targets[0].text, state, cdpath)
    if inv.name == "pushd":
        state.dirstack.append(before)
    state.oldpwd = before


def _cd_target(target: str | None, state: ShellState, cdpath: str | None) -> Path | None:
    if target is None:
        return None
    if target.startswith(("/", "~")):
        return resolve_path(target, state.cwd or state.home, state.home)
    if state.cwd is None:
        return None
    dotted = target in (".", "..") or target.startswith(("./", "../"))
    if cdpath == _UNKNOWN_CDPATH and not dotted:
        return None
    if cdpath and not dotted:
        # A relative name is looked up in each CDPATH entry before the current directory.
        for entry in cdpath.split(":"):
            base = state.cwd if not entry else resolve_path(entry, state.cwd, state.home)
            if (base / target).is_dir():
                return resolve_path(target, base, state.home)
    return resolve_path(target, state.cwd, state.home)
