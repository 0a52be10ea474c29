"""Running a project's tests and telling generated tests from regression tests."""

from claudeserver.domain.testrun.base import RunContext, TestRunError, TestRunner, execute
from claudeserver.domain.testrun.detect import RUNNER_NAMES, detect_runner
from claudeserver.domain.testrun.discovery import TestFileSnapshot
from claudeserver.domain.testrun.junit import TestResult, parse_junit
from claudeserver.domain.testrun.pytest_runner import PytestRunner

__all__ = [
    "RUNNER_NAMES",
    "PytestRunner",
    "RunContext",
    "TestFileSnapshot",
    "TestResult",
    "TestRunError",
    "TestRunner",
    "detect_runner",
    "execute",
    "parse_junit",
]
