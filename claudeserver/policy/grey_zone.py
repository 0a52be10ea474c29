"""Commands in the grey zone: allowed unattended, but worth a person's look when one
watches the task (a package the project does not depend on yet, a mass deletion).

Each finding is a question (Ask.category, Ask.question) for the shell walker, which turns
it into an ask unless an allow rule or a remembered answer covers the command.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterator
from pathlib import Path

from .argv import positionals, short_flags, texts
from .context import Invocation
from .model import ASK_DELETE, ASK_INSTALL, PolicyConfig
from .paths import Places
from .paths import resolve as resolve_path

# Where projects name what they depend on, in the project root (and the command's cwd).
DEPENDENCY_FILES = (
    "requirements.txt", "requirements-dev.txt", "dev-requirements.txt", "constraints.txt",
    "pyproject.toml", "setup.cfg", "setup.py", "Pipfile", "Pipfile.lock", "poetry.lock",
    "uv.lock", "pdm.lock", "package.json", "package-lock.json", "yarn.lock",
    "pnpm-lock.yaml", "Cargo.toml", "Cargo.lock", "go.mod", "go.sum",
)  # fmt: skip
_READ_BYTES = 4_000_000
# Install subcommands by tool; their operands are the packages.
_INSTALLS = {
    "pip": {"install"}, "pipenv": {"install"}, "uv": {"add"}, "poetry": {"add"},
    "pdm": {"add"}, "rye": {"add"}, "npm": {"install", "i", "add", "in"},
    "pnpm": {"add", "install", "i"}, "yarn": {"add"}, "bun": {"add", "install", "i"},
    "cargo": {"add"}, "go": {"get", "install"},
}  # fmt: skip
# Options of those commands that take a value (so the value is no package).
_VALUED = (
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
    "--extra-index-url", "-t", "--target", "--prefix", "--root", "-f", "--find-links",
    "--python", "-p", "--group", "-G", "--features", "-F", "--rename", "--path", "--git",
    "--branch", "--tag", "--rev", "--registry", "--package", "--dev-dependency",
)  # fmt: skip
_PYTHON = re.compile(r"^python[0-9.]*$")
_SEPARATORS = re.compile(r"[-_.]+")
# Directories whose files are generated or downloaded: deleting them is routine.
GENERATED_DIRS = frozenset(
    {"node_modules", ".venv", "venv", "__pycache__", "build", "dist", "target", ".tox",
     ".pytest_cache", ".mypy_cache", ".ruff_cache", ".next", ".cache", "coverage", ".nox"}
)  # fmt: skip


def questions(inv: Invocation, config: PolicyConfig, places: Places) -> Iterator[tuple[str, str]]:
    """(category, question) for each grey-zone thing this simple command does."""
    new = _new_packages(inv, places)
    if new:
        listed = ", ".join(f"`{name}`" for name in new)
        why = "which the project's requirements and lock files do not name"
        yield ASK_INSTALL, f"`{inv.text}` installs {listed}, {why}"
    limit = config.ask_deletes_over
    if _deleted_files(inv, limit) > limit:
        how_many = f"more than {limit} of the project's files at once"
        yield ASK_DELETE, f"`{inv.text}` deletes {how_many} (ask_deletes_over={limit})"


# -- installs ----------------------------------------------------------------------------


def _new_packages(inv: Invocation, places: Places) -> list[str]:
    packages = _requested(inv)
    if not packages:
        return []
    known = _dependency_text(inv, places)
    return [p for p in packages if not _named(p, known)]


def _requested(inv: Invocation) -> list[str]:
    """The packages an install command names (not requirement files or local paths)."""
    name, words = inv.name, list(inv.args)
    if _PYTHON.match(name) and texts(words[:2]) == ["-m", "pip"]:
        name, words = "pip", words[2:]
    elif name == "uv" and texts(words[:1]) == ["pip"]:
        name, words = "pip", words[1:]
    elif re.fullmatch(r"pip[0-9.]*", name):
        name = "pip"
    operands = positionals(words, _VALUED)
    if name not in _INSTALLS or not operands or operands[0].text not in _INSTALLS[name]:
        return []
    return [p for p in (_package(v.text) for v in operands[1:]) if p]


def _package(word: str | None) -> str | None:
    """`requests[socks]>=2` is `requests`, `@scope/pkg@1` is `@scope/pkg`; paths, URLs
    and archives are the project's own or explicit sources, not new dependencies."""
    if not word or "://" in word or word.startswith((".", "/", "~", "file:", "git+", "github:")):
        return None
    if word.endswith((".whl", ".tar.gz", ".zip", ".tgz")):
        return None
    scope, rest = ("@", word[1:]) if word.startswith("@") else ("", word)
    name = re.split(r"[\[<>=!~;@ ,]", rest, maxsplit=1)[0]
    return scope + name if name else None


def _dependency_text(inv: Invocation, places: Places) -> str:
    roots = {places.project}
    cwd = inv.state.cwd
    if cwd is not None and cwd.is_relative_to(places.project):
        roots.add(cwd)
    parts: list[str] = []
    for root in roots:
        for name in DEPENDENCY_FILES:
            try:
                with open(root / name, "rb") as handle:
                    parts.append(handle.read(_READ_BYTES).decode("utf-8", "replace"))
            except OSError:
                continue
    return _normal("\n".join(parts))


def _normal(text: str) -> str:
    # Python names compare case-insensitively with `-`, `_` and `.` alike (PEP 503).
    return _SEPARATORS.sub("-", text.lower())


def _named(package: str, text: str) -> bool:
    pattern = rf"(?<![a-z0-9-]){re.escape(_normal(package))}(?![a-z0-9-])"
    return re.search(pattern, text) is not None


# -- deletions ---------------------------------------------------------------------------


def _deleted_files(inv: Invocation, limit: int) -> int:
    """How many files (up to limit + 1) `rm` or `git rm` would delete, not counting
    generated directories."""
    args = list(inv.args)
    if inv.name == "git":
        if texts(args[:1]) != ["rm"]:
            return 0
        args = args[1:]
    elif inv.name not in ("rm", "unlink"):
        return 0
    cwd = inv.state.cwd
    if cwd is None:
        return 0
    flags = short_flags(args)
    recursive = bool({"r", "R"} & flags) or "--recursive" in texts(args)
    count = 0
    for target in positionals(args):
        for path in _targets(target.text, target.glob, cwd, inv):
            count += _files(path, recursive, limit + 1 - count)
            if count > limit:
                return count
    return count


def _targets(text: str | None, is_glob: bool, cwd: Path, inv: Invocation) -> list[Path]:
    if text is None:
        return []
    path = resolve_path(text, cwd, inv.state.home)
    if not is_glob:
        return [path]
    return [Path(p) for p in glob.glob(str(path))]


def _files(path: Path, recursive: bool, budget: int) -> int:
    if path.name in GENERATED_DIRS or path.is_symlink() or not path.exists():
        return 0
    if not path.is_dir():
        return 1
    if not recursive:
        return 0
    count = 0
    for _root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d not in GENERATED_DIRS]
        count += len(files)
        if count >= budget:
            break
    return count
