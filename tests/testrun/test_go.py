from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from claudeserver.domain.testrun import RunContext
from claudeserver.domain.testrun.go_runner import GoRunner
from claudeserver.domain.validation import run_round, take_baseline

pytestmark = pytest.mark.toolchain

GENERATED = """package calc

import "testing"

func TestAddNegative(t *testing.T) {
	t.Run("both", func(t *testing.T) {
		if Add(-1, -2) != -3 {
			t.Fatal("-1 + -2 != -3")
		}
	})
}

func TestAddWrong(t *testing.T) {
	if got := Add(2, 2); got != 5 {
		t.Errorf("Add(2, 2) = %d, want 5", got)
	}
}
"""


@pytest.fixture
def project(toolchain: Callable[[str], None], sample: Callable[[str], Path]) -> Path:
    toolchain("go")
    return sample("go")


async def test_generated_tests_are_told_from_regression_tests(project: Path) -> None:
    runner = GoRunner(RunContext(project, 120, {}))
    baseline, results, _ = await take_baseline(runner, project)
    assert [(r.name, r.file_path, r.status) for r in results] == [
        ("calc/calc_test.go::TestAddSmall", "calc/calc_test.go", "passed")
    ]

    (project / "calc" / "generated_test.go").write_text(GENERATED)
    outcome = await run_round(runner, project, baseline)

    assert [r.name for r in outcome.regression] == ["calc/calc_test.go::TestAddSmall"]
    # One result per test function: the subtest is part of TestAddNegative.
    assert {r.name: (r.file_path, r.status) for r in outcome.generated} == {
        "calc/generated_test.go::TestAddNegative": ("calc/generated_test.go", "passed"),
        "calc/generated_test.go::TestAddWrong": ("calc/generated_test.go", "failed"),
    }
    [failure] = [r for r in outcome.generated if r.status == "failed"]
    assert "Add(2, 2) = 4, want 5" in (failure.output or "")
    assert outcome.full  # go test runs every package anyway: that run was the suite


async def test_a_build_failure_is_an_error_of_the_file_that_broke_it(project: Path) -> None:
    (project / "calc" / "broken_test.go").write_text(
        'package calc\n\nimport "testing"\n\nfunc TestBroken(t *testing.T) { Missing() }\n'
    )
    results = await GoRunner(RunContext(project, 120, {})).run(["./..."])
    [error] = results
    assert (error.name, error.file_path, error.status) == (
        "calc/broken_test.go::[build failed]",
        "calc/broken_test.go",
        "error",
    )
    assert "undefined: Missing" in (error.output or "")
