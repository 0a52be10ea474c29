"""The benchmark suite end to end at its tiny size, with the load case's own checks."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks.run import CASES, run_suite

pytestmark = [pytest.mark.benchmark, pytest.mark.agent, pytest.mark.timeout(480)]


def _numbers(value: object) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return []


def test_tiny_suite_reports_every_case(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    report = run_suite("tiny", out)

    assert out.is_file()
    cases = report["cases"]
    assert isinstance(cases, dict)
    assert set(cases) == set(CASES)
    for name, case in cases.items():
        assert case["error"] is None, f"{name}: {case['error']}"
        assert case["targets"], name
        for target in case["targets"]:
            value = target["value"]
            assert isinstance(value, (int, float)) and not math.isnan(value), (name, target)
            assert target["passed"] in (True, False)
        assert _numbers(case["metrics"]), name
    assert cases["overhead"]["metrics"]["tasks"] == 1
    assert cases["throughput"]["metrics"]["server_end_states"] == {"completed": 1}
    assert cases["latency"]["metrics"]["events"]["count"] > 0
    assert cases["latency"]["metrics"]["memory"]["cli_process_median_mb"] > 0
    # Concurrent clients creating and polling tasks get no errors and lose no task.
    load = cases["load"]["metrics"]
    assert load["requests"] > 100
    assert (load["errors"], load["error_samples"]) == (0, [])
    assert load["database_locked_in_log"] == load["tracebacks_in_log"] == 0
    assert load["tasks_submitted"] > 0
    assert load["tasks_accounted"] == load["tasks_submitted"]
    assert load["tasks_unfinished"] == 0
