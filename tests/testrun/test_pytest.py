"""The pytest runner on fixture projects laid out as real ones are: what runs, what it
imports, and what each test's result is."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from claudeserver.domain.testrun import (
    PytestRunner,
    RunContext,
    TestResult,
    TestRunError,
    workspace_python_path,
)
from claudeserver.domain.testrun.pytest_report import CHECKOUT_IMPORT

# The samples need no pytest plugins, and loading those of the environment running these
# tests (which the samples' virtualenvs see too) takes seconds.
NO_PLUGINS = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def runner_for(project: Path, venv_root: Path | None = None) -> PytestRunner:
    return PytestRunner(RunContext(project, 120, NO_PLUGINS, venv_root=venv_root))


def run(
    project: Path, targets: list[str] | None = None, venv_root: Path | None = None
) -> dict[str, TestResult]:
    runner = runner_for(project, venv_root)
    results = asyncio.run(runner.run(runner.regression_targets() if targets is None else targets))
    assert len({r.name for r in results}) == len(results), "test ids must be unique"
    return {r.name: r for r in results}


def statuses(results: dict[str, TestResult]) -> dict[str, str]:
    return {name: r.status for name, r in results.items()}


def test_a_worktree_tests_its_own_code_not_the_editable_install_in_the_checkout(
    editable_checkout: Callable[[str], Path], worktree: Callable[[Path], Path]
) -> None:
    checkout = editable_checkout("pysrc")
    work = worktree(checkout)
    assert workspace_python_path(venv=checkout / ".venv", checkout=checkout, workspace=work) == [
        str(work / "src")
    ]
    # The agent adds a module and a test for it: importable from the worktree.
    (work / "src" / "tally" / "mean.py").write_text(
        "def mean(values):\n    return sum(values) / len(values)\n"
    )
    (work / "test" / "test_mean.py").write_text(
        "from tally.mean import mean\n\ndef test_mean():\n    assert mean([1, 3]) == 2\n"
    )
    assert statuses(run(work, ["test", "test/test_mean.py"], venv_root=checkout)) == {
        "test/test_mean.py::test_mean": "passed",
        "test/test_tally.py::test_empty": "passed",
        "test/test_tally.py::test_total": "passed",
    }
    # The agent breaks the package: nothing may pass (the checkout's copy still works).
    init = work / "src" / "tally" / "__init__.py"
    init.write_text("raise ImportError('broken by the task')\n" + init.read_text())
    broken = run(work, venv_root=checkout)
    assert statuses(broken) == {"test/test_mean.py": "error", "test/test_tally.py": "error"}
    assert "broken by the task" in (broken["test/test_tally.py"].output or "")


def test_the_agents_own_python_imports_the_worktree_with_that_path(
    editable_checkout: Callable[[str], Path], worktree: Callable[[Path], Path]
) -> None:
    checkout = editable_checkout("pysrc")
    work = worktree(checkout)
    python_path = workspace_python_path(venv=checkout / ".venv", checkout=checkout, workspace=work)
    where = subprocess.run(
        [checkout / ".venv" / "bin" / "python", "-c", "import tally; print(tally.__file__)"],
        env={"PYTHONPATH": ":".join(python_path)},
        cwd="/",
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip() == str(work / "src" / "tally" / "__init__.py")


def test_code_still_imported_from_the_checkout_is_an_error(
    editable_checkout: Callable[[str], Path], worktree: Callable[[Path], Path]
) -> None:
    """A top-level package the worktree no longer has falls through to the editable install:
    the run says so instead of passing on the checkout's code."""
    checkout = editable_checkout("pysrc")
    work = worktree(checkout)
    (work / "src" / "tally" / "__init__.py").rename(work / "src" / "tally" / "moved.py")
    (work / "src" / "tally").rename(work / "src" / "renamed")
    results = run(work, venv_root=checkout)
    error = results[CHECKOUT_IMPORT]
    assert (error.status, error.file_path) == ("error", None)
    assert f"tally: {checkout.resolve()}/src/tally/__init__.py" in (error.output or "")
    # In the checkout itself nothing is foreign.
    assert set(statuses(run(checkout, venv_root=checkout)).values()) == {"passed"}


def test_tests_inside_the_package_without_configuration(
    editable_checkout: Callable[[str], Path], worktree: Callable[[Path], Path]
) -> None:
    """A flat layout installed editable (setuptools' finder) and no pytest settings: pytest's
    own collection from the project root finds the package's tests."""
    checkout = editable_checkout("pyflat")
    work = worktree(checkout)
    assert runner_for(work).regression_targets() == ["."]
    assert workspace_python_path(venv=checkout / ".venv", checkout=checkout, workspace=work) == [
        str(work)
    ]
    (work / "inpkg" / "__init__.py").write_text("def shout(text):\n    return text\n")
    results = run(work, venv_root=checkout)
    assert statuses(results) == {"inpkg/tests/test_shout.py::test_shout": "failed"}
    assert "assert 'hi' == 'HI!'" in (results["inpkg/tests/test_shout.py::test_shout"].output or "")


def test_each_outcome_inherited_tests_and_a_flaky_test(sample: Callable[[str], Path]) -> None:
    project = sample("pycases")
    runner = runner_for(project)
    assert runner.regression_targets() == ["tests"]
    results = {r.name: r for r in asyncio.run(runner.run(runner.regression_targets()))}
    assert statuses(results) == {
        "tests/test_outcomes.py::test_expected_failure": "xfail",
        "tests/test_outcomes.py::test_unexpected_pass": "passed",
        "tests/test_outcomes.py::test_strict_unexpected_pass": "failed",
        "tests/test_outcomes.py::test_skipped": "skipped",
        "tests/test_outcomes.py::test_flaky": "failed",
        "tests/test_outcomes.py::test_parametrized[1]": "passed",
        "tests/test_outcomes.py::test_parametrized[2]": "passed",
        # Inherited from tests/shape_checks.py, reported under each subclass's file.
        "tests/test_square.py::TestSquare::test_sides": "passed",
        "tests/test_square.py::TestSquare::test_named": "passed",
        "tests/test_triangle.py::TestTriangle::test_sides": "failed",
        "tests/test_triangle.py::TestTriangle::test_named": "passed",
    }
    triangle = results["tests/test_triangle.py::TestTriangle::test_sides"]
    assert triangle.file_path == "tests/test_triangle.py"
    assert "shape_checks.py:9: in test_sides" in (triangle.output or "")
    assert results["tests/test_outcomes.py::test_expected_failure"].output == (
        "rounding is not implemented"
    )
    assert all(r.duration is not None for r in results.values())

    failed = [r for r in results.values() if r.status == "failed"]
    again = {r.name: r.status for r in asyncio.run(runner.rerun(failed))}
    assert again == {
        "tests/test_outcomes.py::test_flaky": "passed",
        "tests/test_outcomes.py::test_strict_unexpected_pass": "failed",
        "tests/test_triangle.py::TestTriangle::test_sides": "failed",
    }


def test_a_generated_file_that_cannot_be_imported_stays_its_own_error(
    sample: Callable[[str], Path],
) -> None:
    """Generated files next to the suite: each runs once, the suite still runs, and the
    broken one is one error with its import traceback."""
    project = sample("pycases")
    (project / "tests" / "test_new.py").write_text("def test_new():\n    pass\n")
    (project / "tests" / "test_broken.py").write_text("import no_such_module\n")
    runner = runner_for(project)
    targets = [*runner.regression_targets(), "tests/test_new.py", "tests/test_broken.py"]
    results = run(project, targets)
    assert len(results) == 13
    assert results["tests/test_new.py::test_new"].status == "passed"
    broken = results["tests/test_broken.py"]
    assert (broken.status, broken.file_path) == ("error", "tests/test_broken.py")
    assert "ModuleNotFoundError: No module named 'no_such_module'" in (broken.output or "")
    assert results["tests/test_square.py::TestSquare::test_sides"].status == "passed"


def test_a_crash_is_the_error_of_the_test_that_caused_it(tmp_path: Path) -> None:
    (tmp_path / "test_exit.py").write_text(
        "import os\n\ndef test_ok():\n    pass\n\ndef test_exit():\n    os._exit(3)\n"
    )
    results = run(tmp_path)
    assert statuses(results) == {
        "test_exit.py::test_ok": "passed",
        "test_exit.py::test_exit": "error",
    }
    assert "pytest ended (exit code 3) while this test ran" in (
        results["test_exit.py::test_exit"].output or ""
    )


def test_a_virtualenv_without_pytest_is_reported(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", tmp_path / ".venv"], check=True)
    (tmp_path / "test_a.py").write_text("def test_a():\n    pass\n")
    runner = runner_for(tmp_path)
    try:
        asyncio.run(runner.run(["."]))
    except TestRunError as error:
        assert "No module named pytest" in str(error)
    else:
        raise AssertionError("expected a TestRunError")
