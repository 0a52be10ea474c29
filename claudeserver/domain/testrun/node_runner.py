"""JavaScript/TypeScript projects: each package's own `test` script, with per-test reports.

The script runs as written (through `npm exec -c`, so its environment settings, `cross-env`
and node_modules/.bin apply) with reporter options added right after its tool's invocation:
jest and vitest write the same JSON report (with absolute file paths); for `node --test` a
small custom reporter writes one JSON line per test, as Node's junit reporter has no file
attribute. Steps before the tests (`pnpm lint && …`, a pretest) are one result of their
own. A script whose tool is none of these is judged by its exit code.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import shlex
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from claudeserver.domain.testrun.base import RunContext, TestRunError, execute
from claudeserver.domain.testrun.command_runner import project_relative, tail, unique_names
from claudeserver.domain.testrun.junit import TestResult
from claudeserver.domain.testrun.node_modules import link_node_modules
from claudeserver.domain.testrun.node_packages import (
    SCRIPT,
    NodePackage,
    count_invocations,
    find_packages,
    with_arguments,
)
from claudeserver.domain.testrun.node_reports import REPORTER, parse_jest_json, parse_node_events

_JS = ("js", "mjs", "cjs")
_JS_TS = ("js", "jsx", "ts", "tsx", "mjs", "cjs", "mts", "cts")
# What `node --test` finds by default (Node 20); paths containing "/" match relative paths.
NODE_PATTERNS = tuple(
    p
    for ext in _JS
    for p in (
        f"*.test.{ext}", f"*-test.{ext}", f"*_test.{ext}", f"test-*.{ext}",
        f"test/*.{ext}", f"*/test/*.{ext}",
    )
)  # fmt: skip
# vitest's default test file names; jest also takes any file under __tests__.
VITEST_PATTERNS = tuple(f"*.{kind}.{ext}" for kind in ("test", "spec") for ext in _JS_TS)
JEST_PATTERNS = (*VITEST_PATTERNS, *(f"*__tests__/*.{ext}" for ext in _JS_TS))
_PATTERNS = {
    "vitest": VITEST_PATTERNS,
    "jest": JEST_PATTERNS,
    "node": NODE_PATTERNS,
    SCRIPT: (*JEST_PATTERNS, *NODE_PATTERNS),
}

BIN = Path("node_modules", ".bin")
_NUMBERED = re.compile(r"^(.*) #\d+$")


@dataclasses.dataclass(frozen=True)
class _Selection:
    """What to run of one package: everything, or some files, or some tests by name."""

    files: tuple[str, ...] = ()  # relative to the project; empty: the package's whole suite
    names: tuple[tuple[str, ...], ...] = ()  # titles (ancestors, test) to run again


class NodeRunner:
    name = "node"

    def __init__(self, ctx: RunContext) -> None:
        # CI=true: jest and vitest never start watch mode. No colour codes in the failure
        # messages (pnpm forces them on for scripts). No npm update check: offline.
        env = {
            "CI": "true",
            "FORCE_COLOR": "0",
            "NO_COLOR": "1",
            "npm_config_update_notifier": "false",
        }
        self.ctx = dataclasses.replace(ctx, env={**env, **ctx.env})
        self.packages = find_packages(ctx.project)
        self.tool = self.packages[0].tool
        frameworks = [p.framework for p in self.packages]
        self.test_file_patterns: tuple[str, ...] = tuple(
            dict.fromkeys(p for framework in frameworks for p in _PATTERNS[framework])
        )
        self.framework_hint = _hint(frameworks[0], ctx.project, self.packages[0].script)
        self._linked = False

    def regression_targets(self) -> list[str]:
        return [p.directory for p in self.packages]

    async def run(self, targets: list[str]) -> list[TestResult]:
        """Each package named (or holding a file named) in `targets`; a package's files are
        passed to its tool only when the package's whole suite is not run anyway."""
        plan: dict[NodePackage, _Selection] = {}
        for target in dict.fromkeys(targets):
            if (self.ctx.project / target).is_dir():
                plan.update(
                    (p, _Selection()) for p in self.packages if _is_within(p.directory, target)
                )
                continue
            holder = self._package_of(target)
            if holder is None or not (self.ctx.project / target).is_file():
                continue
            if holder in plan and not plan[holder].files:
                continue  # its whole suite runs
            files = plan[holder].files if holder in plan else ()
            plan[holder] = _Selection(files=(*files, target))
        return await self._run_plan(plan)

    async def rerun(self, results: list[TestResult]) -> list[TestResult]:
        """Exactly these tests again, by file and name; a package judged by its exit code
        runs again as a whole."""
        plan: dict[NodePackage, _Selection] = {}
        for result in results:
            file = result.file_path
            package = self._package_of(file) if file else self._labelled(result.name)
            if package is None or (package in plan and not plan[package].files):
                continue  # unknown, or run whole anyway
            if file is None or package.tool == SCRIPT:
                plan[package] = _Selection()
                continue
            titles = _titles(result)  # None: the file did not load, it runs whole
            selection = plan.get(package, _Selection())
            plan[package] = _Selection(
                files=tuple(dict.fromkeys((*selection.files, file))),
                names=(*selection.names, titles) if titles else selection.names,
            )
        wanted = {r.name for r in results}
        return [r for r in await self._run_plan(plan) if r.name in wanted]

    def _labelled(self, name: str) -> NodePackage | None:
        """The package whose script's result (or its setup's) is called `name`."""
        return next(
            (p for p in self.packages if name == _label(p) or name.startswith(f"{_label(p)}: ")),
            None,
        )

    def _package_of(self, path: str) -> NodePackage | None:
        """The innermost package holding `path` (relative to the project)."""
        holders = [p for p in self.packages if _is_within(path, p.directory)]
        return max(holders, key=lambda p: len(PurePosixPath(p.directory).parts), default=None)

    async def _run_plan(self, plan: dict[NodePackage, _Selection]) -> list[TestResult]:
        if not plan:
            return []
        if shutil.which("node") is None or shutil.which("npm") is None:
            raise TestRunError("node and npm are needed to run this project's tests")
        if not self._linked:
            await asyncio.to_thread(link_node_modules, self.ctx.project, self.ctx.venv_root)
            self._linked = True
        results: list[TestResult] = []
        for package, selection in plan.items():
            results += await self._run_package(package, selection)
        return unique_names(results)

    async def _run_package(self, package: NodePackage, selection: _Selection) -> list[TestResult]:
        # In the package's directory; the context (and what it may write) stays the project.
        args = ["sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", package.directory]
        if package.tool == SCRIPT:
            code, output = await execute([*args, "npm", "test"], self.ctx)
            status, detail = ("passed", None) if code == 0 else ("failed", tail(output))
            return [TestResult(_label(package), None, status, detail, None)]
        self._require_installed(package)
        with tempfile.TemporaryDirectory(prefix="claudeserver-node-") as tmp:
            reports = [Path(tmp, f"report-{i}.json") for i in range(count_invocations(package))]
            script = with_arguments(
                package, lambda i: self._arguments(package, selection, reports[i], Path(tmp))
            )
            failed, log = Path(tmp, "setup-failed"), Path(tmp, "setup.log")
            shell = script.test
            if script.setup:
                steps = " && ".join(f"{{ {step}\n}}" for step in script.setup)
                redirect = f"> {shlex.quote(str(log))} 2>&1 || : > {shlex.quote(str(failed))}"
                shell = f"{steps} {redirect}\n{shell}"
            npm = [*args, "npm", "exec", "-c", shell]
            code, output = await execute(npm, self.ctx, writable=[Path(tmp)])
            results = [r for report in reports for r in self._parse(package, report)]
            if script.setup:
                # Reported passing too: the baseline then knows the steps passed before the
                # task, so a failure later is the change's doing.
                name = f"{_label(package)}: {' && '.join(script.setup)}"
                detail = tail(log.read_text(errors="replace")) if failed.exists() else None
                status = "failed" if failed.exists() else "passed"
                results.append(TestResult(name, None, status, detail, None))
        if selection.files:
            results = [r for r in results if r.file_path in selection.files]
        if code != 0 and not any(r.status in ("failed", "error") for r in results):
            # No report (the tool did not start), or a later step of the script failed.
            results.append(TestResult(_label(package), None, "error", tail(output), None))
        return results

    def _arguments(
        self, package: NodePackage, selection: _Selection, report: Path, tmp: Path
    ) -> list[str]:
        where = self.ctx.project / package.directory
        files = [project_relative(str(self.ctx.project / f), where) for f in selection.files]
        pattern = _name_pattern(selection.names, package.tool) if selection.names else None
        if package.tool == "vitest":
            return [
                "--reporter=default", "--reporter=json", f"--outputFile.json={report}",
                *(["--testNamePattern", pattern] if pattern else []), *files,
            ]  # fmt: skip
        if package.tool == "jest":
            return [
                "--ci", "--json", f"--outputFile={report}",
                *(["--testNamePattern", pattern] if pattern else []),
                *(["--runTestsByPath", *files] if files else []),
            ]  # fmt: skip
        reporter = tmp / "reporter.mjs"
        reporter.write_text(REPORTER)
        return [
            f"--test-reporter={reporter}", f"--test-reporter-destination={report}",
            "--test-reporter=spec", "--test-reporter-destination=stdout",
            *([f"--test-name-pattern={pattern}"] if pattern else []), *files,
        ]  # fmt: skip

    def _parse(self, package: NodePackage, report: Path) -> list[TestResult]:
        if not report.exists():
            return []
        text = report.read_text(errors="replace")
        if package.tool == "node":
            return parse_node_events(text, self.ctx.project)
        return parse_jest_json(text, self.ctx.project)

    def _require_installed(self, package: NodePackage) -> None:
        """jest and vitest come from node_modules (linked from the checkout in a worktree)."""
        if package.tool not in ("vitest", "jest"):
            return
        where = (self.ctx.project / package.directory).resolve()
        if not any((d / BIN / package.tool).exists() for d in (where, *where.parents)):
            checkout = self.ctx.venv_root or self.ctx.project
            raise TestRunError(
                f"{package.tool} is not installed in {checkout}: run `npm install` (or the "
                "project's package manager) there"
            )


def _label(package: NodePackage) -> str:
    """The name of a package's whole-script result: what a person would type."""
    return "npm test" if package.directory == "." else f"{package.directory}: npm test"


def _is_within(path: str, directory: str) -> bool:
    return directory == "." or PurePosixPath(path).is_relative_to(directory)


def _titles(result: TestResult) -> tuple[str, ...] | None:
    """A test's describe titles and own title, from its id `file::describe::test`."""
    prefix = f"{result.file_path}::"
    if not result.name.startswith(prefix):
        return None
    return tuple(result.name.removeprefix(prefix).split("::"))


def _name_pattern(names: tuple[tuple[str, ...], ...], tool: str) -> str:
    """A regular expression (JavaScript syntax) matching these tests' names.

    jest and vitest match it against the describe titles and the test's own title joined
    by spaces; Node's runner against the test's own title (Node 20) or the joined titles
    (later versions), so for it the own title at the end does. Tests of the same title
    elsewhere may run too; the caller keeps only the ones it asked for.
    """
    alternatives = set()
    for titles in names:
        if tool == "node":
            titles = titles[-1:]
        for variant in (titles, (*titles[:-1], _unnumbered(titles[-1]))):
            alternatives.add(_js_escape(" ".join(variant)))
    body = "|".join(sorted(alternatives))
    return f"(?:^| )(?:{body})$" if tool == "node" else f"^(?:{body})$"


def _unnumbered(title: str) -> str:
    """A repeated title numbered by unique_names (`same #2`) as the tool prints it."""
    match = _NUMBERED.match(title)
    return match.group(1) if match else title


def _js_escape(text: str) -> str:
    return re.sub(r"[\\^$.*+?()[\]{}|/-]", r"\\\g<0>", text)


def _hint(framework: str, project: Path, script: str) -> str:
    ext = "ts" if (project / "tsconfig.json").is_file() else "js"
    if framework == "vitest":
        return (
            f"Vitest tests (import {{ describe, it, expect }} from 'vitest'), in one or more "
            f"new files named *.test.{ext} or *.spec.{ext}"
        )
    if framework == "jest":
        return f"Jest tests, in one or more new files named *.test.{ext} or *.spec.{ext}"
    if framework == "node":
        return (
            "tests using Node's built-in test runner (node:test and node:assert), in one "
            "or more new files named *.test.js (*.test.mjs for ES modules)"
        )
    return (
        f"tests for the project's own test runner (its test script is `{script}`), in one "
        f"or more new files named *.test.{ext} or *.spec.{ext}"
    )
