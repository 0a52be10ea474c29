"""The fix loop in other ecosystems: the real CLI, the fake model, the language's own tests."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claudeserver.testing import FakeAnthropic, Rule, ScriptedModel
from claudeserver.testing.fake_anthropic import Model
from claudeserver.testing.script import write
from tests.conftest import submit, wait_for

pytestmark = [pytest.mark.agent, pytest.mark.toolchain]

SAMPLES = Path(__file__).parents[1] / "testrun" / "samples"
CARGO_LIB = (SAMPLES / "cargo" / "src" / "lib.rs").read_text()


@dataclass(frozen=True)
class Ecosystem:
    sample: str
    tool: str
    impl_path: str
    buggy: str
    fixed: str
    test_path: str
    tests: str
    regression: str  # one regression test id from the sample


ECOSYSTEMS = {
    "node": Ecosystem(
        "node", "node", "src/mul.js",
        "exports.mul = (a, b) => a + b;\n",
        "exports.mul = (a, b) => a * b;\n",
        "test/mul.test.js",
        "const test = require('node:test');\nconst assert = require('node:assert');\n"
        "const { mul } = require('../src/mul');\n"
        "test('multiplies', () => { assert.strictEqual(mul(2, 3), 6); });\n"
        "test('multiplies by zero', () => { assert.strictEqual(mul(0, 5), 0); });\n",
        "test/math.test.js::adds small numbers",
    ),
    "go": Ecosystem(
        "go", "go", "calc/mul.go",
        "package calc\n\nfunc Mul(a, b int) int { return a + b }\n",
        "package calc\n\nfunc Mul(a, b int) int { return a * b }\n",
        "calc/mul_test.go",
        'package calc\n\nimport "testing"\n\n'
        'func TestMul(t *testing.T) { if Mul(2, 3) != 6 { t.Fatal("2*3") } }\n\n'
        'func TestMulZero(t *testing.T) { if Mul(0, 5) != 0 { t.Fatal("0*5") } }\n',
        "example.com/sample/calc.TestAddSmall",
    ),
    "cargo": Ecosystem(
        "cargo", "cargo", "src/lib.rs",
        CARGO_LIB + "\npub fn mul(a: i32, b: i32) -> i32 {\n    a + b\n}\n",
        CARGO_LIB + "\npub fn mul(a: i32, b: i32) -> i32 {\n    a * b\n}\n",
        "tests/mul.rs",
        "#[test]\nfn multiplies() {\n    assert_eq!(sample::mul(2, 3), 6);\n}\n\n"
        "#[test]\nfn multiplies_by_zero() {\n    assert_eq!(sample::mul(0, 5), 0);\n}\n",
        "tests/basic.rs::adds_small",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(ECOSYSTEMS))
def test_fix_loop_completes_with_the_languages_own_tests(
    name: str,
    api: TestClient,
    tmp_path: Path,
    fake_model: Callable[[Model], FakeAnthropic],
) -> None:
    eco = ECOSYSTEMS[name]
    if shutil.which(eco.tool) is None:
        pytest.skip(f"{eco.tool} is not installed (scripts/install-toolchains installs it)")
    project = Path(shutil.copytree(SAMPLES / eco.sample, tmp_path / eco.sample))
    fake = fake_model(
        ScriptedModel(
            [
                Rule("## Task", [write(eco.impl_path, eco.buggy)], done="Added mul."),
                Rule("write tests", [write(eco.test_path, eco.tests)], done="Tests written."),
                Rule("Some tests failed", [write(eco.impl_path, eco.fixed)], done="Fixed."),
            ]
        )
    )
    task = wait_for(api, submit(api, project, "Add a mul(a, b) function"), timeout=180)

    assert task["status"] == "completed", task["summary"]
    assert task["test_rounds"] == 2
    generated = [t for t in task["test_cases"] if t["type"] == "generated"]
    regression = [t for t in task["test_cases"] if t["type"] == "regression"]
    assert len(generated) == 2 and {t["file_path"] for t in generated} == {eco.test_path}
    assert eco.regression in {t["name"] for t in regression}
    assert all(t["status"] == "passed" for t in task["test_cases"])
    # The human asked for tests in the project's own language.
    tests_prompt = next(i["content"] for i in task["interactions"] if "write tests" in i["content"])
    assert eco.test_path.rsplit(".", 1)[-1] in tests_prompt or name in tests_prompt.lower()
    assert fake.agent_requests()


def test_unknown_layout_fails_at_start_with_advice(
    api: TestClient, tmp_path: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    project = tmp_path / "mystery"
    project.mkdir()
    (project / "main.zig").write_text("pub fn main() void {}\n")
    fake_model(ScriptedModel([]))
    task = wait_for(api, submit(api, project, "Anything"))
    assert task["status"] == "failed"
    assert "test_command" in task["summary"] and "JUNIT_XML" in task["summary"]
    assert task["iterations"] == 0  # failed before the agent started
