from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from claudeserver.domain.testrun import RunContext
from claudeserver.domain.testrun.command_runner import CommandRunner
from claudeserver.domain.testrun.detect import detect_runner
from tests.testrun.checkouts import add_worktree, changes, commit_all

# vitest-style JUnit: no file attribute, the file is the class name.
JUNIT = """<testsuite>
  <testcase classname="spec/math.test.ts" name="adds" time="0.5"/>
  <testcase classname="spec/math.test.ts" name="breaks"><failure message="2 != 3"/></testcase>
</testsuite>"""


async def run(project: Path, command: str) -> list[tuple[str, str | None, str]]:
    results = await CommandRunner(RunContext(project, 60, {}), command).run(["."])
    return [(r.name, r.file_path, r.status) for r in results]


async def test_a_junit_report_gives_per_test_results(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text(
        "def test_ok():\n    pass\n\ndef test_bad():\n    assert 1 == 2\n"
    )
    pytest = f"{shlex.quote(sys.executable)} -m pytest -q -p no:cacheprovider"
    command = f'{pytest} -o junit_family=xunit1 --junitxml="$JUNIT_XML" tests'
    assert await run(tmp_path, command) == [
        ("tests/test_x.py::test_ok", "tests/test_x.py", "passed"),
        ("tests/test_x.py::test_bad", "tests/test_x.py", "failed"),
    ]


async def test_a_class_name_that_is_a_file_becomes_the_file(tmp_path: Path) -> None:
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "math.test.ts").write_text("")
    (tmp_path / "report.xml").write_text(JUNIT)
    assert await run(tmp_path, 'cp report.xml "$JUNIT_XML"; exit 1') == [
        ("spec/math.test.ts::adds", "spec/math.test.ts", "passed"),
        ("spec/math.test.ts::breaks", "spec/math.test.ts", "failed"),
    ]


async def test_without_a_report_the_exit_code_decides(tmp_path: Path) -> None:
    assert await run(tmp_path, "echo fine") == [("echo fine", None, "passed")]
    [result] = await CommandRunner(RunContext(tmp_path, 60, {}), "echo boom; exit 3").run([])
    assert (result.name, result.status, result.output) == ("echo boom; exit 3", "failed", "boom\n")


async def test_a_failing_command_fails_even_if_its_report_passed(tmp_path: Path) -> None:
    (tmp_path / "report.xml").write_text('<testsuite><testcase name="ok"/></testsuite>')
    command = 'cp report.xml "$JUNIT_XML"; echo lint failed; exit 1'
    assert await run(tmp_path, command) == [("ok", None, "passed"), (command, None, "failed")]


async def test_a_rerun_runs_the_command_again_for_the_results_asked_for(tmp_path: Path) -> None:
    (tmp_path / "report.xml").write_text(JUNIT)
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "math.test.ts").write_text("")
    runner = CommandRunner(RunContext(tmp_path, 60, {}), 'cp report.xml "$JUNIT_XML"; exit 1')
    [_, breaks] = await runner.run(["."])
    (tmp_path / "report.xml").write_text(JUNIT.replace('<failure message="2 != 3"/>', ""))
    assert [(r.name, r.status) for r in await runner.rerun([breaks])] == [
        ("spec/math.test.ts::breaks", "passed")
    ]


def test_a_vitest_project_with_a_test_command_is_asked_for_vitest_files(tmp_path: Path) -> None:
    """Its package.json runs the tests through another tool, but depends on vitest."""
    manifest = {"scripts": {"test": "turbo run test"}, "devDependencies": {"vitest": "^3"}}
    (tmp_path / "package.json").write_text(json.dumps(manifest))
    (tmp_path / "tsconfig.json").write_text("{}")
    runner = detect_runner(RunContext(tmp_path, 60, {}), test_command="pnpm test")
    assert isinstance(runner, CommandRunner)
    assert {"*.spec.ts", "*.test.ts"} <= set(runner.test_file_patterns)
    assert "*.test.js" in runner.test_file_patterns
    assert runner.framework_hint.startswith("Vitest tests (import")


@pytest.mark.toolchain
async def test_in_a_worktree_the_command_imports_the_checkouts_packages(
    toolchain: Callable[[str], None], tmp_path: Path
) -> None:
    toolchain("node")
    checkout = tmp_path / "checkout"
    (checkout / "node_modules" / "dep").mkdir(parents=True)
    (checkout / "package.json").write_text('{"type": "module"}')
    (checkout / "check.mjs").write_text(
        "import { v } from 'dep';\nprocess.exit(v === 1 ? 0 : 1);\n"
    )
    (checkout / ".gitignore").write_text("node_modules\n")
    commit_all(checkout)
    (checkout / "node_modules" / "dep" / "package.json").write_text(
        '{"name": "dep", "type": "module", "exports": "./index.js"}'
    )
    (checkout / "node_modules" / "dep" / "index.js").write_text("export const v = 1;\n")
    worktree = add_worktree(checkout, tmp_path / "task")
    runner = CommandRunner(RunContext(worktree, 60, {}, venv_root=checkout), "node check.mjs")
    assert [(r.name, r.status) for r in await runner.run(["."])] == [("node check.mjs", "passed")]
    assert changes(worktree) == []
