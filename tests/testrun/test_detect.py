from __future__ import annotations

from pathlib import Path

import pytest

from claudeserver.domain.testrun import PytestRunner, RunContext, TestRunError
from claudeserver.domain.testrun.cargo_runner import CargoRunner
from claudeserver.domain.testrun.command_runner import GENERIC_PATTERNS, CommandRunner
from claudeserver.domain.testrun.detect import detect_runner
from claudeserver.domain.testrun.go_runner import GoRunner
from claudeserver.domain.testrun.node_runner import NodeRunner


def detect(root: Path, *files: str, **options: str) -> object:
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("{}" if name.endswith(".json") else "")
    return detect_runner(RunContext(root, 60, {}), **options)


@pytest.mark.parametrize(
    ("files", "kind"),
    [
        (["pyproject.toml"], PytestRunner),
        (["requirements.txt", "package.json"], PytestRunner),
        (["package.json"], NodeRunner),
        (["go.mod"], GoRunner),
        (["Cargo.toml"], CargoRunner),
        (["tests/test_a.py"], PytestRunner),
        (["scripts/deep/test_tool.py"], PytestRunner),
        # A stray Python test does not make a Go project a Python one.
        (["go.mod", "tools/test_gen.py"], GoRunner),
    ],
)
def test_the_layout_picks_the_runner(tmp_path: Path, files: list[str], kind: type) -> None:
    assert isinstance(detect(tmp_path, *files), kind)


def test_an_unknown_layout_asks_for_a_test_command(tmp_path: Path) -> None:
    with pytest.raises(TestRunError) as error:
        detect(tmp_path, "README.md", "node_modules/x/test_y.py")
    assert str(error.value) == (
        "Cannot tell how to run this project's tests: no pyproject.toml, package.json, go.mod "
        "or Cargo.toml. Set test_command on the task (or test_runner on the session) to a "
        "command that runs the tests and writes JUnit XML to $JUNIT_XML."
    )


def test_a_preferred_runner_wins_over_the_layout(tmp_path: Path) -> None:
    assert isinstance(detect(tmp_path, "pyproject.toml", preferred="cargo"), CargoRunner)
    with pytest.raises(TestRunError, match="Unknown test_runner 'maven'"):
        detect(tmp_path, preferred="maven")
    with pytest.raises(TestRunError, match="needs a test_command"):
        detect(tmp_path, preferred="command")


def test_a_test_command_wins_and_keeps_the_ecosystem_file_names(tmp_path: Path) -> None:
    runner = detect(tmp_path, "go.mod", test_command="make test", preferred="pytest")
    assert isinstance(runner, CommandRunner)
    assert runner.test_file_patterns == GoRunner.test_file_patterns
    assert runner.framework_hint.startswith("Go test functions")
    assert runner.framework_hint.endswith("(the tests are run with `make test`)")

    (tmp_path / "other").mkdir()
    runner = detect(tmp_path / "other", test_command="./run-tests")
    assert isinstance(runner, CommandRunner)
    assert runner.test_file_patterns == GENERIC_PATTERNS
