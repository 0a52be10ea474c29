"""Judging by change, end to end with the real CLI and a scripted fake model (issue 15):
a test failing before the task, a regression the agent causes, a flaky test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claudeserver.testing import FakeAnthropic, Rule, ScriptedModel
from claudeserver.testing.fake_anthropic import Model
from claudeserver.testing.script import write
from tests.conftest import submit, wait_for
from tests.models import CONFTEST, FIXED, calculator

pytestmark = pytest.mark.agent

LEGACY = "tests/test_legacy.py::test_legacy_rounding"
ADD_TEST = "tests/test_add.py::test_add"
FLAKY = "tests/test_timing.py::test_sometimes_slow"


def test_a_test_failing_before_the_task_does_not_block_it(
    api: TestClient, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    (project / "tests" / "test_legacy.py").write_text(
        "def test_legacy_rounding():\n    assert round(2.5) == 3, 'broken before the task'\n"
    )
    fake = fake_model(calculator(first=FIXED))
    task = wait_for(api, submit(api, project, "Add an add(a, b) function in mathutil.py"))

    assert task["status"] == "completed", task["summary"]
    assert f"1 test was already failing before the task: {LEGACY}" in task["summary"]
    (legacy,) = [t for t in task["test_cases"] if t["name"] == LEGACY]
    assert (legacy["status"], legacy["baseline_status"], legacy["verdict"]) == (
        "failed", "failed", "pre_existing"
    )  # fmt: skip
    assert task["test_summary"]["pre_existing"] == 1
    # Events name what is worth a look; the regression tests that still pass are counted.
    events = [(i["content"], i["data"]) for i in task["interactions"] if i["kind"] == "test_result"]
    assert (f"failed: {LEGACY}", "pre_existing") in [(c, d["verdict"]) for c, d in events]
    assert ("passed: 1 regression tests", 1) in [(c, d.get("count")) for c, d in events]
    assert not any(c == "passed: tests/test_existing.py::test_existing" for c, _ in events)
    assert task["baseline_duration"] > 0 and len(task["round_durations"]) == task["test_rounds"]
    # Never the agent's fault: it was not told about it.
    assert not any("test_legacy" in r.conversation_text for r in fake.agent_requests())


BROKEN = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
WITH_MUL = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n"
MUL_TESTS = (
    "from mathutil import mul\n\n"
    "def test_mul():\n    assert mul(2, 3) == 6\n\n"
    "def test_mul_zero():\n    assert mul(5, 0) == 0\n"
)


def test_a_regression_the_agent_causes_is_named_to_it_and_fixed(
    api: TestClient, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    (project / "mathutil.py").write_text(FIXED)
    (project / "tests" / "conftest.py").write_text(CONFTEST)
    (project / "tests" / "test_add.py").write_text(
        "from mathutil import add\n\ndef test_add():\n    assert add(2, 2) == 4\n"
    )
    fake = fake_model(
        ScriptedModel(
            [
                Rule("## Task", [write("mathutil.py", BROKEN)], done="I added mul."),
                Rule("write tests", [write("tests/test_mul.py", MUL_TESTS)], done="Two tests."),
                Rule("Some tests failed", [write("mathutil.py", WITH_MUL)], done="Fixed add."),
            ]
        )
    )
    task = wait_for(api, submit(api, project, "Add a mul(a, b) function to mathutil.py"))

    assert task["status"] == "completed", task["summary"]
    assert task["test_rounds"] == 2
    prompts = [i["content"] for i in task["interactions"] if i["kind"] == "prompt"]
    fix_request = next(p for p in prompts if p.startswith("Some tests failed"))
    assert f"### {ADD_TEST} (failed; it passed before your change)" in fix_request
    assert "assert" in fix_request
    assert any(ADD_TEST in r.conversation_text for r in fake.agent_requests())
    (add,) = [t for t in task["test_cases"] if t["name"] == ADD_TEST]
    assert (add["status"], add["verdict"]) == ("passed", "ok")
    rounds = [i["data"] for i in task["interactions"] if i["kind"] == "round"]
    assert [(r["full"], r["failing"]) for r in rounds] == [(True, 1), (True, 0)]


def test_a_flaky_regression_test_is_recorded_and_does_not_block(
    api: TestClient, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    # Fails on its second run only: the baseline passes, the round's run fails, the
    # re-run on its own passes.
    (project / "tests" / "test_timing.py").write_text(
        "from pathlib import Path\n\n"
        "COUNTER = Path(__file__).parents[1] / '.timing-runs'\n\n"
        "def test_sometimes_slow():\n"
        "    runs = int(COUNTER.read_text()) if COUNTER.exists() else 0\n"
        "    COUNTER.write_text(str(runs + 1))\n"
        "    assert runs != 1, 'timed out this time'\n"
    )
    fake_model(calculator(first=FIXED))
    task = wait_for(api, submit(api, project, "Add an add(a, b) function in mathutil.py"))

    assert task["status"] == "completed", task["summary"]
    assert f"1 test failed, then passed when re-run (flaky): {FLAKY}" in task["summary"]
    (flaky,) = [t for t in task["test_cases"] if t["name"] == FLAKY]
    assert (flaky["status"], flaky["flaky"], flaky["verdict"]) == ("passed", True, "flaky")
    assert "timed out this time" in flaky["output"]
    assert task["test_summary"]["flaky"] == 1
    assert (project / ".timing-runs").read_text() == "3"  # baseline, round, re-run
