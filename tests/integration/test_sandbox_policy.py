"""The policy's protections reach the Bash sandbox, where a script the agent writes runs.

A command string can hide nothing from the sandbox: the pre-existing tests are
write-denied at the filesystem level and the home directory reads as empty apart from
the project and the toolchains, whatever the script does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from claudeserver.testing.script import bash, write
from tests.conftest import submit, wait_for
from tests.models import calculator

pytestmark = pytest.mark.agent

PROBE = """\
import pathlib

attempts = (
    ("append", lambda: open("tests/test_existing.py", "a").write("def test_x(): pass\\n")),
    ("home", lambda: pathlib.Path({notes!r}).read_text()),
)
for name, attempt in attempts:
    try:
        attempt()
        print(name, "SUCCEEDED")
    except OSError as exc:
        print(name, "blocked:", type(exc).__name__)
"""


def test_a_script_cannot_edit_protected_tests_or_read_the_home(
    sandboxed_api: TestClient,
    project: Path,
    tmp_path: Path,
    fake_model: Callable[[Model], FakeAnthropic],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    notes = home / "notes.txt"
    notes.write_text("private")
    monkeypatch.setenv("HOME", str(home))
    existing = project / "tests" / "test_existing.py"
    before = existing.read_text()
    steps = (write("probe.py", PROBE.format(notes=str(notes))), bash("python3 probe.py"))
    fake_model(calculator(task_steps=steps))
    api = sandboxed_api
    task = wait_for(api, submit(api, project, "Add an add(a, b) function in mathutil.py"))

    assert existing.read_text() == before
    output = next(i["content"] for i in task["interactions"] if "append" in i["content"]
                  and i["kind"] == "tool_result")  # fmt: skip
    assert "SUCCEEDED" not in output, output
    assert output.count("blocked") == 2, output
    assert task["status"] == "completed", task["summary"]
