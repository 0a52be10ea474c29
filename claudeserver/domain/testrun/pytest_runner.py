"""Runs pytest in the project as a child process group and reads its JUnit XML."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import tempfile
from pathlib import Path

from claudeserver.domain.testrun.junit import TestResult, parse_junit

REGRESSION_DIR = "tests"


class TestRunError(Exception):
    __test__ = False


class PytestRunner:
    def __init__(self, project: Path, *, timeout: float, env: dict[str, str]) -> None:
        self.project = project
        self.timeout = timeout
        self.env = env

    @property
    def python(self) -> str:
        """The project's own virtualenv if it has one, so its dependencies are importable."""
        for candidate in (".venv/bin/python", "venv/bin/python"):
            path = self.project / candidate
            if path.is_file():
                return str(path)
        return sys.executable

    def regression_targets(self) -> list[str]:
        return [REGRESSION_DIR] if (self.project / REGRESSION_DIR).is_dir() else []

    async def run(self, targets: list[str]) -> list[TestResult]:
        if not targets:
            return []
        with tempfile.TemporaryDirectory(prefix="claudeserver-junit-") as tmp:
            report = Path(tmp, "report.xml")
            args = [
                self.python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                "-o", "junit_family=xunit1", f"--junitxml={report}", *targets,
            ]  # fmt: skip
            output = await self._execute(args)
            if not report.exists():
                raise TestRunError(f"pytest produced no report:\n{output[-2000:]}")
            return parse_junit(report.read_text(errors="replace"))

    async def _execute(self, args: list[str]) -> str:
        env = {**os.environ, **self.env, "PYTHONDONTWRITEBYTECODE": "1"}
        process = await asyncio.create_subprocess_exec(
            *args,
            cwd=self.project,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # so a timeout or cancel can kill the whole group
        )
        try:
            stdout, _ = await asyncio.wait_for(process.communicate(), self.timeout)
        except (asyncio.TimeoutError, asyncio.CancelledError) as exc:
            kill_group(process.pid)
            await process.wait()
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise TestRunError(
                f"the test run exceeded TEST_TIMEOUT_SECONDS={self.timeout:g}"
            ) from exc
        return stdout.decode(errors="replace")


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
