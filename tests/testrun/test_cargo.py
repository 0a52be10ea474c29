from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from claudeserver.domain.testrun import RunContext
from claudeserver.domain.testrun.cargo_runner import CargoRunner

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


@pytest.fixture(scope="session")
def target_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build directory for the session: the sample's crate compiles once."""
    return tmp_path_factory.mktemp("cargo-target")


@pytest.fixture
def runner(
    toolchain: Callable[[str], None], sample: Callable[[str], Path], target_dir: Path
) -> CargoRunner:
    toolchain("cargo")
    return CargoRunner(RunContext(sample("cargo"), 120, {"CARGO_TARGET_DIR": str(target_dir)}))


async def test_each_test_is_reported_with_its_file(runner: CargoRunner) -> None:
    project = runner.ctx.project
    baseline = await runner.run(runner.regression_targets())
    assert sorted((r.name, r.file_path, r.status) for r in baseline) == [
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


async def test_a_test_file_that_does_not_compile_is_an_error(runner: CargoRunner) -> None:
    (runner.ctx.project / "tests" / "broken.rs").write_text(
        '#[test]\nfn broken() {\n    let x: i32 = "one";\n}\n'
    )
    [error] = await runner.run(["."])
    assert (error.name, error.file_path, error.status) == (
        "tests/broken.rs::[build failed]",
        "tests/broken.rs",
        "error",
    )
    assert "mismatched types" in (error.output or "")
