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
