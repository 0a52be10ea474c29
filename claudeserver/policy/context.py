"""The contract between the shell walker and the per-command rules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeAlias

from .model import Denial, PolicyConfig
from .paths import Places
from .shell_state import ShellState, Value


@dataclass(frozen=True)
class Stdin:
    """What flows into a command's standard input, as far as the analyzer can tell.

    kind: "none" (terminal/nothing), "text" (literal text we can inspect), "network"
    (downloaded bytes), "env" (an environment dump), "paths" (file names produced inside
    the project), "file" (a file's content, see `path`), "unknown".
    """

    kind: str
    text: str | None = None
    path: Path | None = None


NO_STDIN = Stdin("none")
# Reading these never ends: copying them fills the disk.
ENDLESS_DEVICES = frozenset({"/dev/zero", "/dev/urandom", "/dev/random"})
UNKNOWN_STDIN = Stdin("unknown")


@dataclass(frozen=True)
class Invocation:
    """One simple command after expansion: `name` is argv[0]'s basename."""

    name: str
    argv0: str
    args: tuple[Value, ...]
    state: ShellState
    stdin: Stdin
    text: str

    def with_args(self, argv: Sequence[Value]) -> Invocation | None:
        """The invocation of a wrapped command, e.g. `rm -rf x` inside `nice rm -rf x`."""
        if not argv or argv[0].text is None:
            return None
        argv0 = argv[0].text
        return Invocation(
            name=argv0.rsplit("/", 1)[-1],
            argv0=argv0,
            args=tuple(argv[1:]),
            state=self.state,
            stdin=self.stdin,
            text=" ".join(v.raw for v in argv),
        )


class Checker(Protocol):
    """Services the shell walker offers to command rules (recursion and path checks)."""

    @property
    def places(self) -> Places: ...

    @property
    def config(self) -> PolicyConfig: ...

    def shell(self, source: str, state: ShellState, stdin: Stdin) -> None: ...

    def invocation(self, inv: Invocation) -> None: ...

    def ask(
        self, inv: Invocation, category: str, question: str, denial: Denial | None = None
    ) -> None: ...

    def code(self, language: str, code: str, state: ShellState) -> None: ...

    def write(self, value: Value, state: ShellState, *, deleting: bool = False) -> None: ...

    def read(self, value: Value, state: ShellState, *, recursive: bool = False) -> None: ...

    def run_script(
        self, value: Value, state: ShellState, language: str, stdin: Stdin = ...
    ) -> None: ...

    def run_stdin(self, stdin: Stdin, state: ShellState, language: str) -> None: ...


# A per-command rule: raises a Denial, or recurses through the checker into what it runs.
Handler: TypeAlias = Callable[[Invocation, Checker], None]
