from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from claudeserver.domain.testrun import RunContext, TestResult
from claudeserver.domain.testrun.go_runner import GoRunner
from claudeserver.domain.validation import SLOW_SUITE_SECONDS, run_round, take_baseline
from tests.testrun.checkouts import add_worktree, changes, commit_all

pytestmark = pytest.mark.toolchain

GENERATED = """package calc

import "testing"

func TestAddNegative(t *testing.T) {
	t.Run("both", func(t *testing.T) {
		if Add(-1, -2) != -3 {
			t.Fatal("-1 + -2 != -3")
		}
	})
	t.Run("one of two", func(t *testing.T) {
		if Add(-1, 2) != 1 {
			t.Fatal("-1 + 2 != 1")
		}
	})
}

func TestAddWrong(t *testing.T) {
	if got := Add(2, 2); got != 5 {
		t.Errorf("Add(2, 2) = %d, want 5", got)
	}
}
"""
# What the worktree's copy of the replaced module says after the task changed it.
CHANGED_LIB = 'package lib\n\nfunc Hello(name string) string {\n\treturn "hi, " + name\n}\n'
GREETING = "example.com/app.TestGreeting/says_hello"


@pytest.fixture
def project(toolchain: Callable[[str], None], sample: Callable[[str], Path]) -> Path:
    toolchain("go")
    return sample("go")


def summary(results: list[TestResult]) -> list[tuple[str, str | None, str]]:
    return sorted((r.name, r.file_path, r.status) for r in results)


async def test_generated_tests_are_told_from_regression_tests(project: Path) -> None:
    runner = GoRunner(RunContext(project, 120, {}))
    baseline, results, _ = await take_baseline(runner, project)
    # As a slow suite's: the agent's tests run on their own first.
    baseline = dataclasses.replace(baseline, seconds=SLOW_SUITE_SECONDS)
    assert summary(results) == [
        ("example.com/sample/calc.TestAddSmall", "calc/calc_test.go", "passed")
    ]

    (project / "calc" / "generated_test.go").write_text(GENERATED)
    outcome = await run_round(runner, project, baseline)

    # The generated file's package alone ran first; one of its tests fails: no suite yet.
    assert outcome.regression == [] and not outcome.full
    # Subtests are tests of their own, named as go prints them; their parent is not repeated.
    assert summary(outcome.generated) == [
        ("example.com/sample/calc.TestAddNegative/both", "calc/generated_test.go", "passed"),
        ("example.com/sample/calc.TestAddNegative/one_of_two", "calc/generated_test.go", "passed"),
        ("example.com/sample/calc.TestAddWrong", "calc/generated_test.go", "failed"),
    ]
    [failure] = [r for r in outcome.generated if r.status == "failed"]
    assert "Add(2, 2) = 4, want 5" in (failure.output or "")

    (project / "calc" / "generated_test.go").write_text(GENERATED.replace("!= 5", "!= 4"))
    outcome = await run_round(runner, project, baseline)
    assert outcome.full
    assert [r.name for r in outcome.regression] == ["example.com/sample/calc.TestAddSmall"]
    assert {r.status for r in outcome.generated} == {"passed"}


async def test_a_file_alone_and_a_rerun_of_some_tests(project: Path) -> None:
    (project / "calc" / "generated_test.go").write_text(GENERATED)
    runner = GoRunner(RunContext(project, 120, {}))
    alone = await runner.run(["calc/generated_test.go"])
    assert {r.file_path for r in alone} == {"calc/generated_test.go"}

    picked = [r for r in alone if r.name.endswith(("/one_of_two", "AddWrong"))]
    again = await runner.rerun(picked)
    assert summary(again) == summary(picked)


async def test_a_build_failure_is_an_error_of_the_file_that_broke_it(project: Path) -> None:
    (project / "calc" / "broken_test.go").write_text(
        'package calc\n\nimport "testing"\n\nfunc TestBroken(t *testing.T) { Missing() }\n'
    )
    runner = GoRunner(RunContext(project, 120, {}))
    results = await runner.run(["./..."])
    # The package's other tests still run, without the file.
    assert summary(results) == [
        ("example.com/sample/calc [build failed]", "calc/broken_test.go", "error"),
        ("example.com/sample/calc.TestAddSmall", "calc/calc_test.go", "passed"),
    ]
    [error] = [r for r in results if r.status == "error"]
    assert "undefined: Missing" in (error.output or "")
    # Again as a whole package.
    assert summary(await runner.rerun([error])) == summary([error])


@pytest.fixture
def replacing(toolchain: Callable[[str], None], sample: Callable[[str], Path]) -> Path:
    """A checkout with app/ whose go.mod replaces example.com/lib by the sibling lib/."""
    toolchain("go")
    return sample("go-replace")


async def test_a_replace_into_a_sibling_directory_uses_the_worktrees_copy(
    replacing: Path, tmp_path: Path
) -> None:
    commit_all(replacing)
    worktree = add_worktree(replacing, tmp_path / "task")
    runner = GoRunner(RunContext(worktree / "app", 120, {}, venv_root=replacing / "app"))
    assert summary(await runner.run(runner.regression_targets())) == [
        (GREETING, "greet_test.go", "passed")
    ]
    (worktree / "lib" / "lib.go").write_text(CHANGED_LIB)
    [result] = await runner.run(runner.regression_targets())
    assert result.status == "failed"
    assert 'Greeting() = "hi, gophers"' in (result.output or "")


@pytest.mark.parametrize("with_go_work", [False, True])
async def test_an_absolute_replace_into_the_checkout_leads_to_the_worktree(
    replacing: Path, tmp_path: Path, with_go_work: bool
) -> None:
    go_mod = replacing / "app" / "go.mod"
    go_mod.write_text(go_mod.read_text().replace("=> ../lib", f"=> {replacing / 'lib'}"))
    if with_go_work:  # lib is not one of its modules: the replacement counts
        (replacing / "go.work").write_text("go 1.18\n\nuse ./app\n")
    commit_all(replacing)
    worktree = add_worktree(replacing, tmp_path / "task")
    (worktree / "lib" / "lib.go").write_text(CHANGED_LIB)
    project = worktree if with_go_work else worktree / "app"
    checkout = replacing if with_go_work else replacing / "app"
    runner = GoRunner(RunContext(project, 120, {}, venv_root=checkout))

    [result] = await runner.run(runner.regression_targets())
    assert (result.name, result.status) == (GREETING, "failed")
    assert changes(worktree) == [" M lib/lib.go"]  # go.mod itself is left alone


async def test_every_module_of_a_go_work_is_tested(replacing: Path) -> None:
    (replacing / "go.work").write_text("go 1.18\n\nuse (\n\t./app\n\t./lib\n)\n")
    runner = GoRunner(RunContext(replacing, 120, {}))
    assert summary(await runner.run(runner.regression_targets())) == [
        (GREETING, "app/greet_test.go", "passed"),
        ("example.com/lib.TestHello", "lib/lib_test.go", "passed"),
    ]
    # A file of one module runs its package only.
    [hello] = await runner.run(["lib/lib_test.go"])
    assert hello.name == "example.com/lib.TestHello"


async def test_a_relative_replace_out_of_the_repository_still_finds_it(
    replacing: Path, tmp_path: Path
) -> None:
    """The repository is app/ alone; ../lib lies beside the checkout, not the worktree."""
    commit_all(replacing / "app")
    worktree = add_worktree(replacing / "app", tmp_path / "tasks" / "task")
    runner = GoRunner(RunContext(worktree, 120, {}, venv_root=replacing / "app"))
    assert summary(await runner.run(runner.regression_targets())) == [
        (GREETING, "greet_test.go", "passed")
    ]
    shutil.rmtree(replacing / "lib")
    [missing] = await runner.run(runner.regression_targets())
    assert missing.status == "error"
