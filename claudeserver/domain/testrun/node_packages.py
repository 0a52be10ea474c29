"""What a JavaScript project's own configuration says about its tests.

The `test` script of package.json decides how tests run: its tool (vitest, jest, Node's
test runner, or something else) and its environment (`TZ=UTC vitest run`, `cross-env …`).
A workspace root whose script only delegates (`npm test --workspaces`, `pnpm -r test`,
`turbo run test`) is replaced by its member packages' own scripts.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from claudeserver.domain.testrun.discovery import find_files

TOOLS: tuple[str, ...] = ("vitest", "jest", "node")
# Running `npm test` and judging by its exit code: a tool this runner cannot read reports of.
SCRIPT = "script"
# npm init's placeholder, which always fails.
_PLACEHOLDER = "no test specified"
# vitest's subcommands: our options go after them, so file filters are not taken for one.
_VITEST_COMMANDS = frozenset({"run", "watch", "dev", "related"})
_OPERATORS = ("&&", "||", ";;", ";", "|", "&", "(", ")", "\n")
_DELEGATION = re.compile(r"(?:npm run(?:-script)?|pnpm(?: run)?|yarn(?: run)?|bun run) ([\w:.-]+)")
_JS_SUFFIX = re.compile(r"\.[cm]?js$")


@dataclass(frozen=True)
class NodePackage:
    """A package whose tests run as one unit, with its test script."""

    directory: str  # relative to the project, "." for the root
    tool: str  # one of TOOLS, or SCRIPT
    script: str  # the test script, or the tool's plain invocation when there is none
    pretest: str | None = None  # npm runs it before `test`; so do we
    # Whose conventions tests follow: the tool, or for a SCRIPT the one the package
    # depends on (a script `turbo run test` in a vitest project), else SCRIPT.
    framework: str = ""


def find_packages(project: Path) -> list[NodePackage]:
    """The root package, or the workspace members that have tests when the root delegates."""
    root = _package(project, ".")
    if root.tool == SCRIPT or not _has_test_script(project):
        members = [
            _package(project, directory)
            for directory in _workspace_members(project)
            if _has_test_script(project / directory)
        ]
        if members:
            return members
    return [root]


def read_manifest(directory: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((directory / "package.json").read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _scripts(manifest: dict[str, Any]) -> dict[str, str]:
    scripts = manifest.get("scripts")
    if not isinstance(scripts, dict):
        return {}
    return {k: v for k, v in scripts.items() if isinstance(v, str)}


def _has_test_script(directory: Path) -> bool:
    script = _scripts(read_manifest(directory)).get("test", "")
    return bool(script.strip()) and _PLACEHOLDER not in script


def _package(project: Path, directory: str) -> NodePackage:
    manifest = read_manifest(project / directory)
    scripts = _scripts(manifest)
    dependencies = {
        **_mapping(manifest.get("dependencies")),
        **_mapping(manifest.get("devDependencies")),
    }
    depends_on: str | None = next((t for t in ("vitest", "jest") if t in dependencies), None)
    if not _has_test_script(project / directory):
        # No script: the tool the package depends on, run plainly; else Node's own runner.
        tool = depends_on or "node"
        plain = {"vitest": "vitest run", "jest": "jest", "node": "node --test"}[tool]
        return NodePackage(directory, tool, plain, framework=tool)
    script = _followed(scripts)
    tool = next((t for t in TOOLS if _invocations(script, t)), SCRIPT)
    framework = (depends_on or SCRIPT) if tool == SCRIPT else tool
    return NodePackage(directory, tool, script, scripts.get("pretest"), framework)


def _followed(scripts: dict[str, str]) -> str:
    """The test script, or the script it only calls (`"test": "npm run test:unit"`)."""
    script = scripts["test"]
    for _ in range(3):
        match = _DELEGATION.fullmatch(script.strip())
        if match is None or match.group(1) not in scripts:
            break
        script = scripts[match.group(1)]
    return script


def _mapping(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _workspace_members(project: Path) -> list[str]:
    """npm/yarn `workspaces` or pnpm-workspace.yaml `packages` globs (`!` excludes), as the
    directories with a package.json they match."""
    workspaces = read_manifest(project).get("workspaces")
    if isinstance(workspaces, dict):
        workspaces = workspaces.get("packages")
    patterns = [p for p in workspaces if isinstance(p, str)] if isinstance(workspaces, list) else []
    patterns += _pnpm_patterns(project / "pnpm-workspace.yaml")
    if not patterns:
        return []
    included = [_glob(p) for p in patterns if not p.startswith("!")]
    excluded = [_glob(p[1:]) for p in patterns if p.startswith("!")]
    members = []
    for manifest in find_files(project, ("package.json",)):
        directory = PurePosixPath(manifest).parent.as_posix()
        if (
            directory != "."
            and any(g.fullmatch(directory) for g in included)
            and not any(g.fullmatch(directory) for g in excluded)
        ):
            members.append(directory)
    return members


def _glob(pattern: str) -> re.Pattern[str]:
    """A workspace glob as a regular expression: `*` within a directory name, `**` across."""
    parts = re.split(r"(\*\*/?|\*|\?)", pattern.strip().removeprefix("./").rstrip("/"))
    wildcards = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(wildcards.get(part, re.escape(part)) for part in parts))


def _pnpm_patterns(path: Path) -> list[str]:
    """The `packages:` list of pnpm-workspace.yaml (a list of quoted or bare globs)."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    patterns, inside = [], False
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace() and not line.startswith("-"):
            inside = line.split(":")[0].strip() == "packages"
        elif inside and line.strip().startswith("-"):
            patterns.append(line.strip()[1:].split("#")[0].strip().strip("'\""))
    return patterns


@dataclass(frozen=True)
class _Token:
    word: str | None  # unquoted text, or None for an operator
    start: int  # offsets in the script
    end: int


def _tokens(script: str) -> Iterator[_Token]:
    """Shell words and operators, enough to find where a command's arguments end."""
    i, n = 0, len(script)
    while i < n:
        if script[i] in " \t":
            i += 1
            continue
        start = i
        operator = next((op for op in _OPERATORS if script.startswith(op, i)), None)
        if operator:
            i += len(operator)
            yield _Token(None, start, i)
            continue
        word: list[str] = []
        while (
            i < n
            and script[i] not in " \t"
            and not any(script.startswith(op, i) for op in _OPERATORS)
        ):
            char = script[i]
            if char == "\\" and i + 1 < n:
                word.append(script[i + 1])
                i += 2
            elif char in "'\"":
                close = script.find(char, i + 1)
                close = n if close < 0 else close
                word.append(script[i + 1 : close])
                i = close + 1
            else:
                word.append(char)
                i += 1
        yield _Token("".join(word), start, i)


@dataclass
class _Invocation:
    options_at: int  # where options may go: after the tool (and vitest's subcommand)
    setup_ends: int | None  # the `&&` the tool's command follows, if any: the end of setup


def _invocations(script: str, tool: str) -> list[_Invocation]:
    """Each invocation of `tool` (at most one per simple command)."""
    found: list[_Invocation] = []
    command: list[str] = []  # the words of the current simple command so far
    invoked = False  # `tool` already invoked in this command
    after_and: int | None = None  # the offset of the `&&` before this command
    for token in _tokens(script):
        if token.word is None:
            command, invoked = [], False
            after_and = token.start if script.startswith("&&", token.start) else None
            continue
        if invoked and _stem(command[-1]) == "vitest" and token.word in _VITEST_COMMANDS:
            found[-1].options_at = token.end
        command.append(token.word)
        if invoked:
            continue
        if tool == "node":
            invoked = token.word == "--test" and any(_stem(w) == "node" for w in command[:-1])
        else:
            invoked = _stem(token.word) == tool
        if invoked:
            found.append(_Invocation(token.end, after_and))
    return found


def _stem(word: str) -> str:
    return _JS_SUFFIX.sub("", PurePosixPath(word).name)


@dataclass(frozen=True)
class Script:
    """A package's test script split for running: `setup` (its pretest, and the steps the
    script runs before the tests, `pnpm lint && …`) is judged on its own, so a failing
    step there does not hide every test's result."""

    setup: tuple[str, ...]
    test: str


def with_arguments(package: NodePackage, arguments: Callable[[int], list[str]]) -> Script:
    """The package's test script with `arguments(i)`, shell-quoted, added to the i-th
    invocation of its tool."""
    script = package.script
    invocations = _invocations(script, package.tool)
    for index, invocation in reversed(list(enumerate(invocations))):
        inserted = " ".join(shlex.quote(a) for a in arguments(index))
        at = invocation.options_at
        script = f"{script[:at]} {inserted}{script[at:]}"
    setup = [package.pretest] if package.pretest else []
    if invocations and invocations[0].setup_ends is not None:
        split = invocations[0].setup_ends
        setup.append(script[:split].strip())
        script = script[split + 2 :].strip()
    return Script(tuple(setup), script)


def count_invocations(package: NodePackage) -> int:
    return len(_invocations(package.script, package.tool))
