"""Running a project's tests and telling generated tests from regression tests."""

from claudeserver.domain.testrun.base import (
    TEST_STATUSES,
    RunContext,
    TestResult,
    TestRunError,
    TestRunner,
    execute,
)
from claudeserver.domain.testrun.detect import RUNNER_NAMES, detect_runner
from claudeserver.domain.testrun.discovery import TestFileSnapshot
from claudeserver.domain.testrun.junit import parse_junit
from claudeserver.domain.testrun.pytest_runner import PytestRunner
from claudeserver.domain.testrun.python_env import find_venv, workspace_python_path

__all__ = [
    "RUNNER_NAMES",
    "TEST_STATUSES",
    "PytestRunner",
    "RunContext",
    "TestFileSnapshot",
    "TestResult",
    "TestRunError",
    "TestRunner",
    "detect_runner",
    "execute",
    "find_venv",
    "parse_junit",
    "workspace_python_path",
]
