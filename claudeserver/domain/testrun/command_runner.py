"""Any project: a user-supplied shell command, with per-test results if it writes JUnit XML."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import tempfile
from pathlib import Path

from claudeserver.domain.testrun.base import RunContext, TestRunner, execute, rerun_files
from claudeserver.domain.testrun.junit import MAX_OUTPUT_CHARS, TestResult, parse_junit
from claudeserver.domain.testrun.node_modules import link_node_modules

# Names for generated test files when the ecosystem is unknown: the common conventions.
GENERIC_PATTERNS = (
    "test_*.*", "*_test.*", "*.test.*", "*.spec.*", "*Test.java", "*Tests.java", "*Test.kt",
)  # fmt: skip
GENERIC_HINT = "tests, in one or more new files named test_<topic>.<ext> or <topic>_test.<ext>"


def project_relative(path: str, project: Path) -> str:
    """`path` (absolute, or relative to the project) as a POSIX path relative to the project.

    Paths outside the project stay absolute: they cannot be files the agent created there.
    """
    absolute = Path(project, path).resolve()
    try:
        return absolute.relative_to(project.resolve()).as_posix()
    except ValueError:
        return absolute.as_posix()


def tail(text: str) -> str:
    return text[-MAX_OUTPUT_CHARS:]


def unique_names(results: list[TestResult]) -> list[TestResult]:
    """Names must be unique in a run: repeats (two tests with one title, two doc tests on
    one item) are numbered in order, `name #2`."""
    seen: dict[str, int] = {}
    unique = []
    for result in results:
        seen[result.name] = seen.get(result.name, 0) + 1
        if seen[result.name] > 1:
            result = dataclasses.replace(result, name=f"{result.name} #{seen[result.name]}")
        unique.append(result)
    return unique


class CommandRunner:
    """Runs `sh -c <command>` in the project; the command may write JUnit XML to $JUNIT_XML.

    The command decides what runs, so targets are ignored. File patterns and the request
    wording come from the project's own ecosystem when it has one (`like`). In a worktree,
    a JavaScript project's installed packages are linked in first (see node_modules).
    """

    name = "command"

    def __init__(self, ctx: RunContext, command: str, like: TestRunner | None = None) -> None:
        self.ctx = ctx
        self.command = command
        self.test_file_patterns: tuple[str, ...] = (
            like.test_file_patterns if like else GENERIC_PATTERNS
        )
        self.framework_hint = (
            f"{like.framework_hint if like else GENERIC_HINT} (the tests are run with `{command}`)"
        )
        self._linked = False

    def regression_targets(self) -> list[str]:
        return ["."]

    async def rerun(self, results: list[TestResult]) -> list[TestResult]:
        return await rerun_files(self, results)

    async def run(self, targets: list[str]) -> list[TestResult]:
        if not self._linked:
            await asyncio.to_thread(link_node_modules, self.ctx.project, self.ctx.venv_root)
            self._linked = True
        with tempfile.TemporaryDirectory(prefix="claudeserver-junit-") as tmp:
            report = Path(tmp, "junit.xml")
            ctx = dataclasses.replace(self.ctx, env={**self.ctx.env, "JUNIT_XML": str(report)})
            code, output = await execute(["sh", "-c", self.command], ctx, writable=[Path(tmp)])
            xml = report.read_text(errors="replace") if report.exists() else ""
        results = [self._with_file(r) for r in parse_junit(xml)]
        if results and (code == 0 or any(r.status in ("failed", "error") for r in results)):
            return results
        # No per-test report, or the command failed although every reported test passed
        # (a later step, a crash): the exit code is the verdict.
        status = "passed" if code == 0 else "failed"
        summary = TestResult(
            self.command, None, status, None if code == 0 else tail(output) or None, None
        )
        return [*results, summary]

    def _with_file(self, result: TestResult) -> TestResult:
        """Project-relative file paths; some reporters leave `file` out but name the file
        in the class name (e.g. vitest), which parse_junit puts first in the test name."""
        path = result.file_path
        if path is None:
            first = result.name.split("::")[0]
            path = first if os.path.isfile(self.ctx.project / first) else None
        return dataclasses.replace(
            result, file_path=project_relative(path, self.ctx.project) if path else None
        )
