"""Walks a parsed command line with the state a shell would have, judging each command.

The walker follows the shell's structure (sequences, pipelines and what flows through
them, groups, loops, functions, redirections, aliases, variables) and hands each simple
command, expanded, to its rule in commands.py, under the session's Bash rules. What the
rules call back through `context.Checker` is done in modules of their own: the files a
command reads and writes (shell_paths) and the code it runs (scripts); so is following
`cd` (shell_cd).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from . import commands, grey_zone, network, programs, scripts, shell_cd, shell_paths
from .context import ENDLESS_DEVICES, NO_STDIN, UNKNOWN_STDIN, Invocation, Stdin
from .git_command import main_args
from .model import ASK_RULE, RESOURCE_BOMB, RULE, UNPARSEABLE, Ask, Denial, PolicyConfig
from .paths import Places, resolve
from .rules import RuleSet, naming
from .shell_ast import Assign, Command, FunctionDef, Group, Loop, Node, Pipeline, Redirect, Sequence
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
_WRITE_OPS = frozenset({">", ">>", ">|", "&>", "&>>", "<>"})


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
        shell_cd.change_directory(inv, cmd, prefix)

    def invocation(self, inv: Invocation) -> None:
        inv = programs.as_program(inv, self.places.project)
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
                    stdin = Stdin("file", path=resolve(target.text, state.cwd, state.home))
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
            path = resolve(target.text, state.cwd, state.home)
            if redirect.fd not in (None, "1"):
                continue
            state.scripts[path] = produced.text if produced.kind == "text" else None
            if produced.kind == "network":
                state.downloaded.add(path)

    def write(self, value: Value, state: ShellState, *, deleting: bool = False) -> None:
        shell_paths.write(value, state, self.places, self.rules, deleting=deleting)

    def read(self, value: Value, state: ShellState, *, recursive: bool = False) -> None:
        shell_paths.read(value, state, self.places, self.rules, recursive=recursive)

    def run_script(
        self, value: Value, state: ShellState, language: str, stdin: Stdin = UNKNOWN_STDIN
    ) -> None:
        scripts.run_script(value, state, language, stdin, self)

    def run_stdin(self, stdin: Stdin, state: ShellState, language: str) -> None:
        scripts.run_stdin(stdin, state, language, self)

    def code(self, language: str, code: str, state: ShellState) -> None:
        scripts.code(language, code, state, self)


def _spellings(inv: Invocation) -> list[str]:
    """The ways a deny rule may name this command: as typed, by its full path, by its bare
    name (`/usr/bin/curl` is `curl`), and for git without global options (`git -c k=v
    commit` is `git commit`)."""
    args = [a.text or a.raw for a in inv.args]
    spelled = [inv.text, " ".join([inv.argv0, *args]), " ".join([inv.name, *args])]
    if inv.name == "git":
        spelled.append(" ".join(["git", *(a.text or a.raw for a in main_args(list(inv.args)))]))
    return list(dict.fromkeys(spelled))


def _loop_item(value: Value) -> str | None:
    if value.text is None:
        return None
    if value.glob:
        prefix = value.text.rsplit("/", 1)[0] if "/" in value.text else "."
        return f"{prefix}/__glob_item__"
    return value.text
