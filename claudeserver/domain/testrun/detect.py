"""Choosing a project's test runner: a test command, a named runner, or its layout."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from claudeserver.domain.testrun.base import RunContext, TestRunError, TestRunner
from claudeserver.domain.testrun.cargo_runner import CargoRunner
from claudeserver.domain.testrun.command_runner import CommandRunner
from claudeserver.domain.testrun.discovery import find_files
from claudeserver.domain.testrun.go_runner import GoRunner
from claudeserver.domain.testrun.node_runner import NodeRunner
from claudeserver.domain.testrun.pytest_runner import PytestRunner

RUNNERS: dict[str, Callable[[RunContext], TestRunner]] = {
    "pytest": PytestRunner,
    "node": NodeRunner,
    "go": GoRunner,
    "cargo": CargoRunner,
}
RUNNER_NAMES = (*RUNNERS, "command")

# Project files that say which ecosystem a project is, strongest first. Python's own
# manifests come first; a stray Python test file only counts when nothing else matched.
_MARKERS = (
    ("pytest", ("pyproject.toml", "setup.py", "setup.cfg", "pytest.ini", "requirements.txt")),
    ("node", ("package.json",)),
    ("go", ("go.mod",)),
    ("cargo", ("Cargo.toml",)),
)

UNKNOWN_LAYOUT = (
    "Cannot tell how to run this project's tests: no pyproject.toml, package.json, go.mod or "
    "Cargo.toml. Set test_command on the task (or test_runner on the session) to a command "
    "that runs the tests and writes JUnit XML to $JUNIT_XML."
)


def detect_runner(
    ctx: RunContext, *, test_command: str | None = None, preferred: str | None = None
) -> TestRunner:
    """test_command wins, then `preferred` (one of RUNNER_NAMES), then the project's files."""
    if test_command:
        detected = _detect(ctx.project)
        return CommandRunner(ctx, test_command, RUNNERS[detected](ctx) if detected else None)
    if preferred == "command":
        raise TestRunError("test_runner 'command' needs a test_command")
    if preferred:
        if preferred not in RUNNERS:
            raise TestRunError(
                f"Unknown test_runner {preferred!r}; use one of: {', '.join(RUNNER_NAMES)}"
            )
        return RUNNERS[preferred](ctx)
    # A project started from nothing gets the seed's default, pytest.
    detected = _detect(ctx.project) or ("pytest" if _is_empty(ctx.project) else None)
    if detected is None:
        raise TestRunError(UNKNOWN_LAYOUT)
    return RUNNERS[detected](ctx)


def _detect(project: Path) -> str | None:
    for name, files in _MARKERS:
        if any((project / f).is_file() for f in files):
            return name
    return "pytest" if _has_python_tests(project) else None


def _is_empty(project: Path) -> bool:
    return not any(not entry.name.startswith(".") for entry in project.iterdir())


def _has_python_tests(project: Path) -> bool:
    return any((project / "tests").glob("*.py")) or bool(find_files(project, ("test_*.py",)))
