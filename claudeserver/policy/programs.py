"""Which program a file really is, so a renamed copy of an interpreter is judged as one.

`ln -s /usr/bin/python3 ./py` or `cp /bin/bash ./b` turn `./py -c CODE` into code the
rules for `py` would never look at. A symlink is followed to its target's name; a plain
executable is compared (size, then content) with the interpreters found on PATH.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from functools import lru_cache
from pathlib import Path

from .context import Invocation
from .model import UNPARSEABLE, Denial
from .paths import lexical

# Programs that run code given on their command line or stdin.
INTERPRETERS = (
    "sh", "bash", "dash", "zsh", "ksh", "mksh", "fish", "busybox", "python3", "python",
    "pypy3", "node", "nodejs", "perl", "ruby", "php", "deno", "bun", "lua", "env", "awk",
    "gawk", "mawk", "sed", "find", "xargs", "git", "tclsh", "Rscript",
)  # fmt: skip
# python, python3.12, pypy3...: all run as python.
PYTHON = re.compile(r"^(python|pypy)[0-9.]*$")
_SIGNATURE_BYTES = 1 << 16


def program_name(name: str) -> str | None:
    """`python3.12` -> `python3.12` (handled as python), `bash` -> `bash`, else None."""
    if PYTHON.match(name) or name in INTERPRETERS:
        return name
    return None


def identify(path: Path) -> str | None:
    """The interpreter `path` is (through links or as a byte copy), or None."""
    try:
        if path.is_symlink():
            return program_name(Path(os.path.realpath(path)).name)
        if not path.is_file() or not os.access(path, os.X_OK):
            return None
        size = path.stat().st_size
    except OSError:
        return None
    for name, (known_size, digest) in _signatures().items():
        if size == known_size and _digest(path) == digest:
            return name
    return None


def as_program(inv: Invocation, project: Path) -> Invocation:
    """`./py -c ...` where ./py is a copy or link of python is judged as python. Copies
    and links made earlier in the line are in `inv.state.programs`; with PATH changed by
    the line, a bare name may be one of them too."""
    state = inv.state
    path: Path | None = None
    if "/" in inv.argv0 and (state.cwd is not None or inv.argv0.startswith("/")):
        path = lexical(inv.argv0, state.cwd or project, state.home)
    elif "PATH" in state.vars:
        path = next((p for p in state.programs if p.name == inv.name), None)
    if path is None:
        return inv
    if path in state.programs:
        program = state.programs[path]
        if program is None:
            raise Denial(
                UNPARSEABLE, f"runs {path}, a copy of a program only known at run time", inv.text
            )
    else:
        program = identify(path)
    if program is None or program == inv.name:
        return inv
    return Invocation(program, program, inv.args, state, inv.stdin, inv.text)


@lru_cache(maxsize=1)
def _signatures() -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for name in INTERPRETERS:
        located = shutil.which(name)
        if located is None:
            continue
        real = Path(os.path.realpath(located))
        try:
            found[name] = (real.stat().st_size, _digest(real))
        except OSError:
            continue
    return found


def _digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.sha256(handle.read(_SIGNATURE_BYTES)).hexdigest()
