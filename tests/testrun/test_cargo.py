from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from claudeserver.domain.testrun import RunContext, TestResult
from claudeserver.domain.testrun.cargo_runner import CargoRunner
from tests.testrun.checkouts import add_worktree, commit_all

pytestmark = pytest.mark.toolchain

GENERATED = """#[test]
fn adds_negative() {
    assert_eq!(sample::add(-1, -2), -3);
}

#[test]
fn adds_wrong() {
    assert_eq!(sample::add(2, 2), 5, "two and two");
}
"""
# The worktree's copy of the path dependency, as the task changed it.
CHANGED_PRICING = "pub fn with_tax(cents: u32) -> u32 {\n    cents * 2\n}\n"


def summary(results: list[TestResult]) -> list[tuple[str, str | None, str]]:
    return sorted((r.name, r.file_path, r.status) for r in results)


@pytest.fixture(scope="session")
def target_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build directory for the session: the samples' crates compile once."""
    return tmp_path_factory.mktemp("cargo-target")


@pytest.fixture
def context(
    toolchain: Callable[[str], None], target_dir: Path
) -> Callable[[Path, Path | None], RunContext]:
    toolchain("cargo")

    def make(project: Path, checkout: Path | None = None) -> RunContext:
        return RunContext(project, 120, {"CARGO_TARGET_DIR": str(target_dir)}, checkout)

    return make


@pytest.fixture
def runner(
    context: Callable[[Path, Path | None], RunContext], sample: Callable[[str], Path]
) -> CargoRunner:
    return CargoRunner(context(sample("cargo"), None))


async def test_each_test_is_reported_with_its_file(runner: CargoRunner) -> None:
    project = runner.ctx.project
    baseline = await runner.run(runner.regression_targets())
    assert summary(baseline) == [
        ("src/lib.rs::doc::add", "src/lib.rs", "passed"),
        ("src/lib.rs::tests::adds_zero", "src/lib.rs", "passed"),
        ("tests/basic.rs::adds_small", "tests/basic.rs", "passed"),
    ]

    (project / "tests" / "generated.rs").write_text(GENERATED)
    results = await runner.run([*runner.regression_targets(), "tests/generated.rs"])

    by_name = {r.name: r for r in results}
    assert {r.name for r in baseline} < set(by_name)
    assert by_name["tests/generated.rs::adds_negative"].status == "passed"
    wrong = by_name["tests/generated.rs::adds_wrong"]
    assert (wrong.file_path, wrong.status) == ("tests/generated.rs", "failed")
    assert "two and two" in (wrong.output or "")
    assert "adds_negative" not in (wrong.output or "")

    picked = [wrong, by_name["src/lib.rs::doc::add"], by_name["src/lib.rs::tests::adds_zero"]]
    assert summary(await runner.rerun(picked)) == summary(picked)


async def test_a_test_file_that_does_not_compile_is_an_error(runner: CargoRunner) -> None:
    (runner.ctx.project / "tests" / "broken.rs").write_text(
        '#[test]\nfn broken() {\n    let x: i32 = "one";\n}\n'
    )
    results = await runner.run(["."])
    # Only that file's tests are lost: cargo stops at the first target that does not
    # compile, so the others run again without it.
    assert summary(results) == [
        ("src/lib.rs::doc::add", "src/lib.rs", "passed"),
        ("src/lib.rs::tests::adds_zero", "src/lib.rs", "passed"),
        ("tests/basic.rs::adds_small", "tests/basic.rs", "passed"),
        ("tests/broken.rs::[build failed]", "tests/broken.rs", "error"),
    ]
    [error] = [r for r in results if r.status == "error"]
    assert "mismatched types" in (error.output or "")
    assert summary(await runner.rerun([error])) == summary([error])


async def test_a_workspace_with_a_path_dependency_in_a_worktree(
    context: Callable[[Path, Path | None], RunContext],
    sample: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    checkout = sample("cargo-workspace")
    commit_all(checkout)
    worktree = add_worktree(checkout, tmp_path / "task")
    runner = CargoRunner(context(worktree, checkout))
    # Every member of the workspace, not only the root package.
    assert summary(await runner.run(runner.regression_targets())) == [
        ("pricing/src/lib.rs::tests::adds_a_fifth", "pricing/src/lib.rs", "passed"),
        ("src/lib.rs::tests::totals_with_tax", "src/lib.rs", "passed"),
    ]
    (worktree / "pricing" / "src" / "lib.rs").write_text(CHANGED_PRICING)
    [total] = await runner.run(runner.regression_targets())
    assert (total.name, total.status) == ("src/lib.rs::tests::totals_with_tax", "failed")


async def test_an_absolute_path_dependency_into_the_checkout_leads_to_the_worktree(
    context: Callable[[Path, Path | None], RunContext],
    sample: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    checkout = sample("cargo-workspace")
    manifest = checkout / "Cargo.toml"
    text = manifest.read_text().split("[workspace]")[0]
    manifest.write_text(text.replace('path = "pricing"', f'path = "{checkout / "pricing"}"'))
    commit_all(checkout)
    worktree = add_worktree(checkout, tmp_path / "task")
    (worktree / "pricing" / "src" / "lib.rs").write_text(CHANGED_PRICING)

    [total] = await CargoRunner(context(worktree, checkout)).run(["."])
    assert (total.name, total.status) == ("src/lib.rs::tests::totals_with_tax", "failed")
