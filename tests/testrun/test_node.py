from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from claudeserver.domain.testrun import RunContext
from claudeserver.domain.testrun.node_runner import NodeRunner
from claudeserver.domain.validation import run_round, take_baseline

pytestmark = pytest.mark.toolchain

GENERATED = """const { describe, it } = require('node:test');
const assert = require('node:assert');
const { add } = require('../src/math');

describe('add', () => {
  it('adds negative numbers', () => {
    assert.strictEqual(add(-1, -2), -3);
  });
  it('is wrong on purpose', () => {
    assert.strictEqual(add(2, 2), 5);
  });
});
"""


@pytest.fixture
def project(toolchain: Callable[[str], None], sample: Callable[[str], Path]) -> Path:
    toolchain("node")
    return sample("node")


async def test_generated_tests_are_told_from_regression_tests(project: Path) -> None:
    runner = NodeRunner(RunContext(project, 60, {}))
    assert runner.tool == "node"
    baseline, results, _ = await take_baseline(runner, project)
    assert [(r.name, r.file_path, r.status) for r in results] == [
        ("test/math.test.js::adds small numbers", "test/math.test.js", "passed")
    ]

    (project / "test" / "generated.test.js").write_text(GENERATED)
    outcome = await run_round(runner, project, baseline)

    # A generated test fails: the suite waits until the agent's own tests pass.
    assert outcome.regression == [] and not outcome.full
    assert {r.name: (r.file_path, r.status) for r in outcome.generated} == {
        "test/generated.test.js::add::adds negative numbers": ("test/generated.test.js", "passed"),
        "test/generated.test.js::add::is wrong on purpose": ("test/generated.test.js", "failed"),
    }
    [failure] = [r for r in outcome.generated if r.status == "failed"]
    assert "4 !== 5" in (failure.output or "")

    (project / "test" / "generated.test.js").write_text(GENERATED.replace("5);", "4);"))
    outcome = await run_round(runner, project, baseline)
    assert outcome.full
    assert [r.name for r in outcome.regression] == ["test/math.test.js::adds small numbers"]
    assert {r.status for r in outcome.generated} == {"passed"} and len(outcome.generated) == 2


async def test_a_file_that_does_not_load_is_an_error(project: Path) -> None:
    (project / "broken.test.mjs").write_text(
        "import { test } from 'node:test';\ntest('x', () => {\n"
    )
    runner = NodeRunner(RunContext(project, 60, {}))
    results = await runner.run(runner.regression_targets())
    by_name = {r.name: r for r in results}
    assert {name: r.status for name, r in by_name.items()} == {
        "broken.test.mjs": "error",
        "test/math.test.js::adds small numbers": "passed",
    }
    assert "SyntaxError" in (by_name["broken.test.mjs"].output or "")
