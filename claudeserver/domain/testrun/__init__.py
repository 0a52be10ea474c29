"""Running a project's tests and telling generated tests from regression tests."""

from claudeserver.domain.testrun.discovery import TestFileSnapshot
from claudeserver.domain.testrun.junit import TestResult, parse_junit
from claudeserver.domain.testrun.pytest_runner import PytestRunner, TestRunError

__all__ = ["PytestRunner", "TestFileSnapshot", "TestResult", "TestRunError", "parse_junit"]
