"""Python projects: the project's own pytest, with per-test results from a small plugin."""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from claudeserver.domain.testrun import pytest_report
from claudeserver.domain.testrun.base import RunContext, TestResult, TestRunError, execute
from claudeserver.domain.testrun.discovery import without_overlaps
from claudeserver.domain.testrun.pytest_config import read_pytest_config
from claudeserver.domain.testrun.python_env import find_venv, workspace_python_path

PLUGIN = "claudeserver_pytest_report"
# pytest's exit codes when it ran as asked: all passed, some failed, none collected.
_RAN = (0, 1, 5)
_TAIL = 4000


class PytestRunner:
    name = "pytest"
    test_file_patterns: tuple[str, ...] = ("test_*.py", "*_test.py")

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.config = read_pytest_config(ctx.project)
        if self.config.python_files:  # the project's own names for test files
            self.test_file_patterns = self.config.python_files
        home = next((t for t in self.regression_targets() if (ctx.project / t).is_dir()), ".")
        if home == "." and (ctx.project / "tests").is_dir():
            home = "tests"
        self.framework_hint = (
            f"pytest test functions, in one or more new files named {self.test_file_patterns[0]}"
            + (f" under {home}/" if home != "." else "")
        )

    @property
    def venv(self) -> Path | None:
        """The project's own virtualenv if it has one, so its dependencies are importable."""
        return find_venv(self.ctx.project, self.ctx.venv_root)

    def regression_targets(self) -> list[str]:
        """What pytest collects when run without arguments in the project: its `testpaths`
        (globs expanded, as pytest does) if any exist, else everything under the root."""
        found = [
            path
            for pattern in self.config.testpaths
            for path in sorted(glob.glob(pattern, root_dir=self.ctx.project, recursive=True))
        ]
        return found or ["."]

    async def run(self, targets: list[str]) -> list[TestResult]:
        targets = without_overlaps(targets)
        return await self._pytest(targets) if targets else []

    async def rerun(self, results: list[TestResult]) -> list[TestResult]:
        """By node id; a file that could not be collected is collected again."""
        return await self.run([r.name for r in results if r.file_path is not None])

    async def _pytest(self, targets: list[str]) -> list[TestResult]:
        venv = self.venv
        python = str(venv / "bin" / "python") if venv else sys.executable
        with tempfile.TemporaryDirectory(prefix="claudeserver-pytest-") as tmp:
            plugin_dir = Path(tmp, "plugin")
            plugin_dir.mkdir()
            shutil.copyfile(pytest_report.__file__, plugin_dir / f"{PLUGIN}.py")
            report = Path(tmp, "report.jsonl")
            args = [
                python, "-m", "pytest", "-p", PLUGIN,
                # Node ids relative to the project, whatever config files lie above it.
                f"--rootdir={self.ctx.project}",
                # A file that fails to import is its own error; the other tests still run.
                "--continue-on-collection-errors",
                # Every test's outcome counts, even with -x in the project's addopts.
                "--maxfail=0",
                "--tb=short", "-q", "-o", f"cache_dir={tmp}/cache",
                *targets,
            ]  # fmt: skip
            env = {
                **self.ctx.env,
                **self._python_path(venv, plugin_dir),
                "PYTHONDONTWRITEBYTECODE": "1",
                pytest_report.REPORT_ENV: str(report),
            }
            code, output = await execute(
                args, dataclasses.replace(self.ctx, env=env), writable=[Path(tmp)]
            )
            records = _read_records(report)
        return _results(records, code, output, python)

    def _python_path(self, venv: Path | None, plugin_dir: Path) -> dict[str, str]:
        """PYTHONPATH: the worktree's counterparts of editable installs first (see
        python_env), the plugin's directory last; and the checkout the plugin watches."""
        checkout, workspace = self.ctx.venv_root, self.ctx.project
        in_worktree = checkout is not None and checkout.resolve() != workspace.resolve()
        entries = (
            workspace_python_path(venv=venv, checkout=checkout, workspace=workspace)
            if venv is not None and checkout is not None and in_worktree
            else []
        )
        inherited = [p for p in self.ctx.env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env = {"PYTHONPATH": os.pathsep.join([*entries, *inherited, str(plugin_dir)])}
        if checkout is not None and in_worktree:
            env[pytest_report.CHECKOUT_ENV] = str(checkout)
        return env


def _read_records(report: Path) -> list[dict[str, Any]]:
    records = []
    try:
        lines = report.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:  # a line cut short by a crash
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def _results(
    records: list[dict[str, Any]], code: int, output: str, python: str
) -> list[TestResult]:
    if not any("session" in r for r in records):
        raise TestRunError(
            f"pytest did not run with {python} (exit code {code}):\n{output[-_TAIL:]}"
        )
    results: dict[str, TestResult] = {}
    started: list[str] = []
    for record in records:
        if "start" in record:
            started.append(str(record["start"]))
        elif "name" in record:
            name = str(record["name"])
            results[name] = TestResult(
                name, record.get("file"), str(record.get("status")), record.get("output"),
                record.get("duration"),
            )  # fmt: skip
    # A test that started and never reported: the process died in it (os._exit, a crash).
    for name in dict.fromkeys(started):
        if name not in results:
            message = f"pytest ended (exit code {code}) while this test ran:\n{output[-_TAIL:]}"
            results[name] = TestResult(name, name.split("::")[0], "error", message, None)
    if code not in _RAN and not results:
        raise TestRunError(f"pytest failed (exit code {code}):\n{output[-_TAIL:]}")
    return list(results.values())
