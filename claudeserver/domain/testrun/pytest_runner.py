"""Python projects: pytest, with per-test results from its JUnit XML."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from claudeserver.domain.testrun.base import RunContext, TestRunError, execute
from claudeserver.domain.testrun.junit import TestResult, parse_junit

REGRESSION_DIR = "tests"


class PytestRunner:
    name = "pytest"
    test_file_patterns: tuple[str, ...] = ("test_*.py", "*_test.py")
    framework_hint = (
        "pytest test functions, in one or more new files named test_*.py "
        "(put them under tests/ if the project has that directory)"
    )

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    @property
    def python(self) -> str:
        """The project's own virtualenv if it has one, so its dependencies are importable."""
        for root in (self.ctx.project, self.ctx.venv_root):
            for candidate in (".venv/bin/python", "venv/bin/python"):
                path = root / candidate if root else None
                if path is not None and path.is_file():
                    return str(path)
        return sys.executable

    def regression_targets(self) -> list[str]:
        return [REGRESSION_DIR] if (self.ctx.project / REGRESSION_DIR).is_dir() else []

    async def run(self, targets: list[str]) -> list[TestResult]:
        if not targets:
            return []
        with tempfile.TemporaryDirectory(prefix="claudeserver-junit-") as tmp:
            report = Path(tmp, "report.xml")
            args = [
                self.python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                "-o", "junit_family=xunit1", f"--junitxml={report}", *targets,
            ]  # fmt: skip
            ctx = RunContext(
                self.ctx.project, self.ctx.timeout, {**self.ctx.env, "PYTHONDONTWRITEBYTECODE": "1"}
            )
            _, output = await execute(args, ctx)
            if not report.exists():
                raise TestRunError(f"pytest produced no report:\n{output[-2000:]}")
            return parse_junit(report.read_text(errors="replace"))

    async def rerun(self, results: list[TestResult]) -> list[TestResult]:
        """By node id; a collection error is named by its file, which is a target too."""
        return await self.run([r.name for r in results])
