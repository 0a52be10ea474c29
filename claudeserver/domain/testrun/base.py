"""What every test runner offers, and the one way they all run a child process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from claudeserver.domain.testrun.junit import TestResult


class TestRunError(Exception):
    __test__ = False


@dataclass(frozen=True)
class RunContext:
    """Where and how a runner runs: the project, a time limit, extra environment."""

    project: Path
    timeout: float
    env: dict[str, str]
    # Where the project's own virtualenv (or node_modules …) lives when `project` is a
    # worktree: ignored directories are not checked out there.
    venv_root: Path | None = None


class TestRunner(Protocol):
    """One implementation per ecosystem (pytest, node, go, cargo, a custom command)."""

    name: str
    # File name patterns of test files, used to find the tests the agent wrote.
    test_file_patterns: tuple[str, ...]
    # How the simulated human asks for tests in this ecosystem.
    framework_hint: str

    def regression_targets(self) -> list[str]:
        """What the baseline runs (paths relative to the project)."""
        ...

    async def run(self, targets: list[str]) -> list[TestResult]:
        """Run `targets` (regression targets plus generated test files) and report each test.

        `TestResult.file_path` must be relative to the project, so generated tests can be
        told from regression tests by file.
        """
        ...

    async def rerun(self, results: list[TestResult]) -> list[TestResult]:
        """Run exactly these tests of an earlier run again (is a failure flaky?)."""
        ...


async def rerun_files(runner: TestRunner, results: list[TestResult]) -> list[TestResult]:
    """For runners that cannot pick single tests: run their files (or, without files, the
    suite) again and report just those tests."""
    wanted = {r.name for r in results}
    files = sorted({r.file_path for r in results if r.file_path})
    return [r for r in await runner.run(files or runner.regression_targets()) if r.name in wanted]


async def execute(args: list[str], ctx: RunContext) -> tuple[int, str]:
    """Run a child in its own process group; on timeout or cancel kill the whole group."""
    process = await asyncio.create_subprocess_exec(
        *args,
        cwd=ctx.project,
        env={**os.environ, **ctx.env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        stdout, _ = await asyncio.wait_for(process.communicate(), ctx.timeout)
    except (asyncio.TimeoutError, asyncio.CancelledError) as exc:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        if isinstance(exc, asyncio.CancelledError):
            raise
        raise TestRunError(f"the test run exceeded TEST_TIMEOUT_SECONDS={ctx.timeout:g}") from exc
    return process.returncode or 0, stdout.decode(errors="replace")
