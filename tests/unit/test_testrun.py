from __future__ import annotations

import asyncio
from pathlib import Path

from claudeserver.domain.testrun import PytestRunner, RunContext, TestFileSnapshot, parse_junit


def test_junit_results_become_node_ids() -> None:
    xml = """<testsuites><testsuite>
      <testcase classname="tests.test_a" name="test_ok" file="tests/test_a.py" time="0.01"/>
      <testcase classname="tests.test_a.TestGroup" name="test_p[1]" file="tests/test_a.py">
        <failure message="assert 1 == 2">long traceback</failure></testcase>
      <testcase classname="tests.test_a" name="test_s" file="tests/test_a.py"><skipped/></testcase>
      <testcase classname="" name="tests.test_broken">
        <error message="collection failure"/></testcase>
    </testsuite></testsuites>"""
    results = parse_junit(xml)
    assert [(r.name, r.status) for r in results] == [
        ("tests/test_a.py::test_ok", "passed"),
        ("tests/test_a.py::TestGroup::test_p[1]", "failed"),
        ("tests/test_a.py::test_s", "skipped"),
        ("tests.test_broken", "error"),
    ]
    assert "long traceback" in (results[1].output or "")
    assert parse_junit("<not xml") == []


def test_snapshot_finds_new_and_changed_test_files(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_old.py").write_text("x = 1\n")
    (tmp_path / "tests" / "test_same.py").write_text("y = 1\n")
    (tmp_path / ".venv").mkdir()
    patterns = PytestRunner.test_file_patterns
    before = TestFileSnapshot.take(tmp_path, patterns)
    (tmp_path / "tests" / "test_old.py").write_text("x = 2\n")
    (tmp_path / "test_new.py").write_text("z = 1\n")
    (tmp_path / ".venv" / "test_ignored.py").write_text("")
    assert TestFileSnapshot.take(tmp_path, patterns).changed_since(before) == [
        "test_new.py",
        "tests/test_old.py",
    ]


def test_runner_reports_each_test(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        "def test_pass():\n    pass\n\ndef test_fail():\n    assert 1 == 2\n"
    )
    runner = PytestRunner(RunContext(tmp_path, 60, {}))
    results = asyncio.run(runner.run(runner.regression_targets()))
    assert {r.name: r.status for r in results} == {
        "tests/test_x.py::test_pass": "passed",
        "tests/test_x.py::test_fail": "failed",
    }
    assert "assert 1 == 2" in (next(r for r in results if r.status == "failed").output or "")
