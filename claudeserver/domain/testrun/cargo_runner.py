"""Rust projects: `cargo test --workspace`, per-test results read from libtest's output.

libtest's JSON output is unstable (nightly only), so this parses the stable text format:
`Running <source> (<binary>)` / `Doc-tests <crate>` headers, `test <name> ... ok` lines and
`---- <name> stdout ----` failure sections. `cargo metadata` maps binaries to source files.
A test is named by its target's root file and its path in the crate, as cargo prints them:
`src/lib.rs::tests::adds`, `tests/api.rs::lists`, `crates/a/src/lib.rs::doc::add`.

In a worktree, workspace members and relative `path` dependencies inside the repository are
the worktree's own. A `path` dependency written as an absolute path into the user's checkout
is overridden (cargo's `paths` setting) by the worktree's copy.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from claudeserver.domain.testrun.base import RunContext, TestRunError, execute
from claudeserver.domain.testrun.checkout import counterparts
from claudeserver.domain.testrun.command_runner import project_relative, tail, unique_names
from claudeserver.domain.testrun.junit import TestResult

_RUNNING = re.compile(r"^\s*Running (?:unittests )?(.+?) \((.+)\)$")
_DOC_TESTS = re.compile(r"^\s*Doc-tests (\S+)$")
_RESULT = re.compile(r"^test (.+?) \.\.\. (ok|FAILED|ignored)\b")
_FAILURE = re.compile(r"^---- (.+?) stdout ----$")
_DOC_NAME = re.compile(r"^(.+?) - (.+?) \(line \d+\)(.*)$")
_NOT_COMPILED = re.compile(r"^error: could not compile `([^`]+)` \((.+?)\)", re.MULTILINE)
_NUMBERED = re.compile(r" #\d+$")
BUILD_FAILED = "::[build failed]"
_STATUS = {"ok": "passed", "FAILED": "failed", "ignored": "skipped"}
_LIB_KINDS = {"lib", "rlib", "dylib", "cdylib", "staticlib", "proc-macro"}


@dataclass
class _Target:
    package: str
    name: str  # as in binary names: '-' -> '_'
    kind: str  # lib, bin, test, ...
    source: Path  # absolute
    root: Path  # the package's directory
    spelled: str  # the name as Cargo.toml spells it, for --test <name>

    def selector(self) -> list[str]:
        """cargo test's options that pick this target alone."""
        return ["--lib"] if self.kind == "lib" else [f"--{self.kind}", self.spelled]


@dataclass
class _Section:
    """The output of one test binary (or of the doc tests of one crate)."""

    source: str  # printed path of the crate root, relative to its package
    binary: str  # target name, or the crate name for doc tests
    doc: bool
    results: list[tuple[str, str]] = field(default_factory=list)  # (test, status)
    failures: dict[str, list[str]] = field(default_factory=dict)
    crashed: bool = False
    text: list[str] = field(default_factory=list)


class CargoRunner:
    name = "cargo"
    # Integration test files; needs discovery to match patterns with '/' on relative paths.
    test_file_patterns: tuple[str, ...] = ("tests/*.rs", "*/tests/*.rs")
    framework_hint = (
        "Rust #[test] functions, in one or more new integration test files under tests/ "
        "(tests/<name>.rs, using the crate's public API)"
    )

    def __init__(self, ctx: RunContext) -> None:
        # Colour codes would break the line matching; some users force them on.
        self.ctx = dataclasses.replace(ctx, env={**ctx.env, "CARGO_TERM_COLOR": "never"})

    def regression_targets(self) -> list[str]:
        return ["."]

    async def run(self, targets: list[str]) -> list[TestResult]:
        """Always every package of the workspace: a generated tests/*.rs file is a target
        cargo builds anyway."""
        metadata = await self._metadata()
        results = await self._cargo_test(["--workspace"], metadata)
        broken = {r.file_path for r in results if r.name.endswith(BUILD_FAILED)}
        if not broken:
            return results
        # cargo builds every target before it runs any, so one that does not compile stops
        # them all: the others run again without it.
        every = _targets(metadata)
        built = [
            t for t in every if project_relative(str(t.source), self.ctx.project) not in broken
        ]
        if any(t.kind == "lib" and t not in built for t in every):
            return results  # a library that does not compile: its dependents cannot either
        selection = [o for t in built if t.kind in ("bin", "test") for o in t.selector()]
        if any(t.kind == "lib" for t in every):
            selection.append("--lib")
            results += await self._cargo_test(["--workspace", "--doc"], metadata)
        if selection:
            results += await self._cargo_test(["--workspace", *selection], metadata)
        return unique_names(results)

    async def rerun(self, results: list[TestResult]) -> list[TestResult]:
        """Exactly these tests again: each target's tests by exact name (doc tests by item)."""
        metadata = await self._metadata()
        targets = _targets(metadata)
        plans: dict[tuple[str, ...], list[str] | None] = {}  # options -> test filters
        for result in results:
            options, name = _rerun_options(result, targets, self.ctx.project)
            names = plans.get(options, [])
            # None: the whole target (a build failure, a crash)
            plans[options] = None if name is None or names is None else [*names, name]
        wanted = {r.name for r in results}
        found: list[TestResult] = []
        for options, names in plans.items():
            exact = ["--exact"] if names and "--doc" not in options else []
            selection = list(options or ["--workspace"])
            found += await self._cargo_test([*selection, "--", *exact, *(names or [])], metadata)
        return [r for r in found if r.name in wanted]

    async def _metadata(self) -> str:
        if shutil.which("cargo") is None:
            raise TestRunError("cargo is not installed (scripts/install-toolchains installs it)")
        _, metadata = await execute(
            ["cargo", "metadata", "--no-deps", "--format-version", "1", "--quiet"], self.ctx
        )
        return metadata

    async def _cargo_test(self, arguments: list[str], metadata: str) -> list[TestResult]:
        overrides = _path_overrides(metadata, self.ctx)
        config = ["--config", f"paths={json.dumps(overrides)}"] if overrides else []
        code, output = await execute(
            ["cargo", "test", *config, "--no-fail-fast", *arguments], self.ctx
        )
        results = parse_cargo_output(output, self.ctx.project, _targets(metadata))
        if code != 0 and not any(r.status in ("failed", "error") for r in results):
            results.append(TestResult("cargo test", None, "error", tail(output), None))
        return results


def _rerun_options(
    result: TestResult, targets: list[_Target], project: Path
) -> tuple[tuple[str, ...], str | None]:
    """(cargo options picking the result's target, the test's libtest name or None)."""
    root, _, rest = result.name.partition("::")
    target = next((t for t in targets if project_relative(str(t.source), project) == root), None)
    if target is None:
        return (), None  # `cargo test` itself failed: everything again
    if rest.startswith("doc::"):
        # Doc test names carry line numbers (dropped from ours): all of the item's.
        item = _NUMBERED.sub("", rest.removeprefix("doc::"))
        relative = target.source.relative_to(target.root).as_posix()
        return ("-p", target.package, "--doc"), f"{relative} - {item} (line"
    options = ("-p", target.package, *target.selector())
    return options, None if rest.startswith("[") else rest


def _path_overrides(metadata: str, ctx: RunContext) -> list[str]:
    """The worktree's copies of path dependencies written as absolute paths into the
    checkout (a relative one already leads to the worktree's copy)."""
    tops = counterparts(ctx.project, ctx.venv_root)
    if tops is None:
        return []
    overrides = []
    for package in _packages(metadata):
        for dependency in package.get("dependencies", []):
            mine = tops.in_worktree(Path(dependency["path"])) if dependency.get("path") else None
            if mine is not None and str(mine) not in overrides:
                overrides.append(str(mine))
    return overrides


def _packages(metadata: str) -> list[dict[str, Any]]:
    # The JSON is one line; stderr (merged in) may hold warnings around it.
    line = next((x for x in metadata.splitlines() if x.startswith("{")), "{}")
    try:
        packages = json.loads(line)["packages"]
    except (ValueError, KeyError):
        return []
    return packages if isinstance(packages, list) else []


def _targets(metadata: str) -> list[_Target]:
    """Build targets from `cargo metadata`; none if the manifest is broken (cargo test
    then fails and says why)."""
    return [
        _Target(
            package["name"],
            target["name"].replace("-", "_"),
            "lib" if set(target["kind"]) & _LIB_KINDS else target["kind"][0],
            Path(target["src_path"]),
            Path(package["manifest_path"]).parent,
            target["name"],
        )
        for package in _packages(metadata)
        for target in package["targets"]
    ]


def parse_cargo_output(output: str, project: Path, targets: list[_Target]) -> list[TestResult]:
    sections: list[_Section] = []
    failing: str | None = None  # the test whose failure output is being read
    for line in output.splitlines():
        if match := _RUNNING.match(line):
            binary = PurePosixPath(match.group(2)).name.rsplit("-", 1)[0]
            sections.append(_Section(match.group(1), binary, doc=False))
            failing = None
        elif match := _DOC_TESTS.match(line):
            sections.append(_Section("", match.group(1).replace("-", "_"), doc=True))
            failing = None
        elif not sections:
            continue
        elif match := _RESULT.match(line):
            sections[-1].results.append((match.group(1), _STATUS[match.group(2)]))
        elif match := _FAILURE.match(line):
            failing = match.group(1)
            sections[-1].failures[failing] = []
        elif line in ("failures:", "successes:") or line.startswith("test result: "):
            failing = None
        elif failing is not None:
            sections[-1].failures[failing].append(line)
        elif "process didn't exit successfully" in line:
            sections[-1].crashed = True
        if sections:
            sections[-1].text.append(line)

    results = [r for section in sections for r in _section_results(section, project, targets)]
    results += _build_failures(output, project, targets)
    return unique_names(results)


def _section_results(section: _Section, project: Path, targets: list[_Target]) -> list[TestResult]:
    target = _find_target(targets, section.binary, section.source, lib=section.doc)
    root = (
        project_relative(str(target.source), project)
        if target
        else project_relative(section.source, project)
    )
    results = []
    for test, status in section.results:
        failure = "\n".join(section.failures.get(test, [])).strip()
        output = tail(failure) if status == "failed" and failure else None
        if section.doc:
            name, file = _doc_test(test, target, project)
        else:
            name, file = f"{root}::{test}", _module_file(root, test, project)
        results.append(TestResult(name, file, status, output, None))
    if section.crashed and not any(status == "failed" for _, status in section.results):
        # The binary died (abort, stack overflow) without reporting the running tests.
        text = tail("\n".join(section.text))
        results.append(TestResult(f"{root}::[crashed]", root, "error", text, None))
    return results


def _find_target(targets: list[_Target], binary: str, source: str, *, lib: bool) -> _Target | None:
    candidates = [t for t in targets if t.name == binary and (t.kind == "lib" or not lib)]
    # Two packages of a workspace can each have a tests/it.rs: the printed path decides.
    exact = [t for t in candidates if source and t.source.as_posix().endswith(f"/{source}")]
    return next(iter(exact or candidates), None)


def _doc_test(test: str, target: _Target | None, project: Path) -> tuple[str, str | None]:
    """Doc test names carry line numbers, which change with any edit above them: drop them."""
    match = _DOC_NAME.match(test)
    if not match:
        return test, None
    path, item, suffix = match.groups()
    file = project_relative(str(target.root / path) if target else path, project)
    return f"{file}::doc::{item}{suffix}", file


def _module_file(root: str, test: str, project: Path) -> str:
    """The file of the module a test is in: `a::b::tests::t` under src/lib.rs is in
    src/a/b.rs (or src/a/b/mod.rs), unless a module is inline; best effort (#[path] aside)."""
    file, directory = root, PurePosixPath(root).parent
    for module in test.split("::")[:-1]:
        for candidate in (directory / f"{module}.rs", directory / module / "mod.rs"):
            if (project / candidate).is_file():
                file = candidate.as_posix()
                break
        else:
            break
        directory = directory / module
    return file


def _build_failures(output: str, project: Path, targets: list[_Target]) -> list[TestResult]:
    """`could not compile `pkg` (test "name")`: one error per target that failed to build."""
    results = []
    for package, what in _NOT_COMPILED.findall(output):
        # what: `lib`, `lib test`, `test "name"`, `bin "name" test`, `example "name"`...
        kind, quoted = what.split(" ")[0], re.search(r'"([^"]+)"', what)
        name = quoted.group(1).replace("-", "_") if quoted else None
        target = next(
            (
                t
                for t in targets
                if t.package == package and t.kind == kind and name in (None, t.name)
            ),
            None,
        )
        file = project_relative(str(target.source), project) if target else None
        label = f"{file or package}{BUILD_FAILED}"
        results.append(TestResult(label, file, "error", tail(output), None))
    return results
