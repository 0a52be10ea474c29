from __future__ import annotations

import shlex
import sys
from pathlib import Path

from claudeserver.domain.testrun import RunContext
from claudeserver.domain.testrun.command_runner import CommandRunner

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
