"""`claudeserver show` and `submit --follow`: how a task's tests are judged, in plain text."""

from __future__ import annotations

from typing import Any

from claudeserver.client.render import failing_tests, task_details


def case(name: str, status: str, verdict: str, **extra: Any) -> dict[str, Any]:
    fields = {"id": 1, "type": "regression", "duration": 0.5, "output": None, "flaky": False}
    return {**fields, "name": name, "status": status, "verdict": verdict, **extra}


def test_show_prints_each_tests_verdict_and_the_judged_counts() -> None:
    task = {
        "id": "t1", "status": "completed", "session_id": "s1", "created_at": "2026-01-01",
        "description": "Add mul", "attempt": 1, "iterations": 2, "pauses": 0, "test_rounds": 2,
        "baseline_duration": 3.25, "round_durations": [1.5, 4.0],
        "test_summary": {"total": 3, "passed": 2, "failed": 1, "pending": 0,
                         "pre_existing": 1, "fixed": 0, "flaky": 1},
        "test_cases": [
            case("tests/test_old.py::test_legacy", "failed", "pre_existing", output="assert 0"),
            case("tests/test_x.py::test_timing", "passed", "flaky", flaky=True,
                 output="failed at first, passed when re-run on its own"),
            case("tests/test_x.py::test_ok", "passed", "ok"),
        ],
    }  # fmt: skip
    text = "\n".join(task_details(task, 120))
    assert "1 already failing before the task; 1 flaky" in text
    assert "baseline 3.25s  rounds 1.50s 4.00s" in text
    assert "failed   regression pre-existing" in text and "passed   regression flaky" in text
    assert "failed at first, passed when re-run" in text  # a flaky test's first failure


def test_failing_tests_keep_pre_existing_ones_apart_and_are_capped() -> None:
    cases = [case(f"t::test_{n}", "failed", "regression") for n in range(25)]
    cases.append(case("t::legacy", "error", "pre_existing"))
    lines = failing_tests(cases)
    assert lines[0] == "failing tests:" and lines[21] == "  … and 5 more"
    assert lines[22:] == ["already failing before the task:", "  t::legacy"]
