"""Report parsing for what the local toolchains cannot produce: jest and vitest reports
(captured from real runs), newer Go's JSON build output, crashing Rust test binaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claudeserver.domain.testrun.cargo_runner import CargoRunner, parse_cargo_output
from claudeserver.domain.testrun.discovery import find_files
from claudeserver.domain.testrun.go_runner import parse_go_test_json
from claudeserver.domain.testrun.node_reports import parse_jest_json
from claudeserver.domain.testrun.node_runner import NODE_PATTERNS

REPORTS = Path(__file__).parent / "samples" / "reports"


@pytest.mark.parametrize("tool", ["jest", "vitest"])
def test_jest_and_vitest_reports(tmp_path: Path, tool: str) -> None:
    text = (REPORTS / f"{tool}.json").read_text().replace("{ROOT}", str(tmp_path))
    results = {r.name: r for r in parse_jest_json(text, tmp_path)}
    broken = "__tests__/bad.js" if tool == "jest" else "bad.test.js"
    assert {name: (r.file_path, r.status) for name, r in results.items()} == {
        "math.test.js::math::adds": ("math.test.js", "passed"),
        "math.test.js::math::breaks": ("math.test.js", "failed"),
        "math.test.js::math::later": ("math.test.js", "skipped"),
        "math.test.js::top": ("math.test.js", "passed"),
        broken: (broken, "error"),
    }
    assert "expected" in (results["math.test.js::math::breaks"].output or "").lower()
    assert results[broken].output


def test_test_file_patterns_match_names_or_relative_paths(tmp_path: Path) -> None:
    files = [
        "src/lib.rs", "tests/it.rs", "tests/common/mod.rs", "crates/a/tests/x.rs",
        "a.test.js", "test/helper.js", "pkg/test/b.mjs", "node_modules/m/c.test.js", "src/d.js",
    ]  # fmt: skip
    for path in files:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    assert find_files(tmp_path, CargoRunner.test_file_patterns) == [
        "crates/a/tests/x.rs",
        "tests/common/mod.rs",
        "tests/it.rs",
    ]
    assert find_files(tmp_path, NODE_PATTERNS) == ["a.test.js", "pkg/test/b.mjs", "test/helper.js"]


def test_go_json_build_failures(tmp_path: Path) -> None:
    """Go >= 1.24 reports build output as JSON events with an ImportPath."""
    (tmp_path / "go.mod").write_text("module example.com/m\n")
    (tmp_path / "calc").mkdir()
    (tmp_path / "calc" / "new_test.go").write_text("package calc\n")
    events = [
        {"ImportPath": "example.com/m/calc [example.com/m/calc.test]", "Action": "build-output",
         "Output": "calc/new_test.go:3:2: undefined: Missing\n"},
        {"ImportPath": "example.com/m/calc [example.com/m/calc.test]", "Action": "build-fail"},
        {"Action": "output", "Package": "example.com/m/calc",
         "Output": "FAIL\texample.com/m/calc [build failed]\n"},
        {"Action": "fail", "Package": "example.com/m/calc", "Elapsed": 0},
    ]  # fmt: skip
    [error] = parse_go_test_json("\n".join(map(json.dumps, events)), tmp_path)
    assert (error.name, error.file_path, error.status) == (
        "example.com/m/calc [build failed]",
        "calc/new_test.go",
        "error",
    )
    assert "undefined: Missing" in (error.output or "")


def test_cargo_crashes_and_repeated_doc_tests(tmp_path: Path) -> None:
    output = """\
     Running unittests src/lib.rs (target/debug/deps/sample-0123abcd)

running 3 tests
test tests::fine ... ok
test tests::offline ... ignored, needs the network

thread 'tests::deep' has overflowed its stack
fatal runtime error: stack overflow
error: test failed, to rerun pass `--lib`

Caused by:
  process didn't exit successfully: `target/debug/deps/sample-0123abcd` (signal: 6, SIGABRT)
   Doc-tests sample

running 2 tests
test src/lib.rs - add (line 3) ... ok
test src/lib.rs - add (line 9) ... FAILED

failures:

---- src/lib.rs - add (line 9) stdout ----
assertion failed

failures:
    src/lib.rs - add (line 9)

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out
"""
    results = parse_cargo_output(output, tmp_path, [])
    assert [(r.name, r.file_path, r.status) for r in results] == [
        ("src/lib.rs::tests::fine", "src/lib.rs", "passed"),
        ("src/lib.rs::tests::offline", "src/lib.rs", "skipped"),
        ("src/lib.rs::[crashed]", "src/lib.rs", "error"),
        ("src/lib.rs::doc::add", "src/lib.rs", "passed"),
        ("src/lib.rs::doc::add #2", "src/lib.rs", "failed"),
    ]
    assert "stack overflow" in (results[2].output or "")
    assert results[4].output == "assertion failed"
