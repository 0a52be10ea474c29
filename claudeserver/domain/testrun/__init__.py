"""Running a project's tests and telling generated tests from regression tests."""

from claudeserver.domain.testrun.base import RunContext, TestRunError, TestRunner, execute
from claudeserver.domain.testrun.discovery import TestFileSnapshot
from claudeserver.domain.testrun.junit import TestResult, parse_junit
from claudeserver.domain.testrun.pytest_runner import PytestRunner

__all__ = [
    "PytestRunner",
    "RunContext",
    "TestFileSnapshot",
    "TestResult",
    "TestRunError",
    "TestRunner",
    "execute",
    "parse_junit",
]
