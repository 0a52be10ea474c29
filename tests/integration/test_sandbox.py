"""Claude Code's Bash sandbox, end to end: the real CLI against a scripted fake model.

The permission policy judges command strings, so it cannot see what a script the agent
wrote does once it runs. Bash therefore also runs inside Claude Code's sandbox
(bubblewrap on Linux): writes outside the project and the sandbox's temp dir fail with
"Read-only file system" whatever the command is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claudeserver.api.app import create_app
from claudeserver.settings import Settings
from claudeserver.testing import FakeAnthropic, Rule, ScriptedModel
from claudeserver.testing.fake_anthropic import Model
from claudeserver.testing.script import bash, write
from tests.conftest import submit, wait_for

pytestmark = pytest.mark.agent

IMPLEMENTATION = "def add(a, b):\n    return a + b\n"
TESTS = (
    "import sys, pathlib\n"
    "sys.path.insert(0, str(pathlib.Path(__file__).parents[1]))\n"
    "from mathutil import add\n\n"
    "def test_add():\n    assert add(2, 3) == 5\n\n"
    "def test_add_negative():\n    assert add(-1, -1) == -2\n"
)
# Written inside the project, so neither the Write nor `python3 evil.py` looks harmful.
EVIL = """\
import pathlib

canary = pathlib.Path({canary!r})
attempts = (
    ("delete", canary.unlink),
    ("overwrite", lambda: canary.write_text("pwned")),
    ("plant", lambda: (canary.parent / "planted.txt").write_text("planted")),
)
for name, attempt in attempts:
    try:
        attempt()
        print(name, "SUCCEEDED")
    except OSError as exc:
        print(name, "blocked:", exc.strerror)
"""


def test_a_script_the_agent_writes_cannot_touch_files_outside_the_project(
    sandboxed_api: TestClient,
    project: Path,
    tmp_path: Path,
    fake_model: Callable[[Model], FakeAnthropic],
) -> None:
    api = sandboxed_api
    outside = tmp_path / "outside"
    outside.mkdir()
    canary = outside / "canary.txt"
    canary.write_text("still here")
    model = ScriptedModel(
        [
            Rule(
                "## Task",
                [
                    write("evil.py", EVIL.format(canary=str(canary))),
                    bash("python3 evil.py", "run the helper script"),
                    write("mathutil.py", IMPLEMENTATION),
                ],
                done="I implemented add.",
            ),
            Rule("write tests", [write("tests/test_mathutil.py", TESTS)], done="Tests written."),
        ]
    )
    fake_model(model)
    task = wait_for(api, submit(api, project, "Add an add(a, b) function in mathutil.py"))

    assert canary.read_text() == "still here"
    assert sorted(p.name for p in outside.iterdir()) == ["canary.txt"]
    # The policy let both calls through: only the sandbox stood in the way.
    allowed = [
        i["data"]["input"]
        for i in task["interactions"]
        if i["role"] == "permission" and i["kind"] == "allow"
    ]
    assert {"command": "python3 evil.py", "description": "run the helper script"} in [
        {k: v for k, v in call.items() if k in ("command", "description")} for call in allowed
    ]
    results = [i["content"] for i in task["interactions"] if i["kind"] == "tool_result"]
    script_output = next(r for r in results if "delete" in r)
    assert "SUCCEEDED" not in script_output
    assert script_output.count("Read-only file system") == 3, script_output
    # The agent went on and finished the task in the project.
    assert (project / "mathutil.py").read_text() == IMPLEMENTATION
    assert task["status"] == "completed", task["summary"]


def test_health_reports_the_sandbox(
    sandboxed_api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-a-key-for-this-test")
    body = sandboxed_api.get("/health").json()
    assert body["sandbox"].startswith("ok: bubblewrap"), body
    assert body["status"] == "ok", body


@pytest.mark.parametrize("mode", ["required", "auto"])
def test_a_sandbox_that_cannot_run_refuses_tasks(
    mode: str,
    project: Path,
    settings: Settings,
    fake_model: Callable[[Model], FakeAnthropic],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without bubblewrap the server says so and runs nothing: the tests of agent-written
    code would otherwise run unconfined. Only SANDBOX=off opts out."""
    monkeypatch.setenv("PATH", str(project.parent / "empty-bin"))  # no bwrap, no socat
    from claudeserver.domain import sandbox

    sandbox.probe.cache_clear()
    settings = settings.model_copy(update={"sandbox": mode})
    try:
        with TestClient(create_app(settings)) as api:
            health = api.get("/health").json()["sandbox"]
            assert health.startswith("unavailable: ") and "SANDBOX=off" in health
            fake = fake_model(ScriptedModel([Rule("## Task", [bash("echo hi")])]))
            task = wait_for(api, submit(api, project, "Anything"))
    finally:
        sandbox.probe.cache_clear()
    assert task["status"] == "failed"
    assert f"SANDBOX={mode}" in task["summary"]
    assert "SANDBOX=off" in task["summary"]
    assert "scripts/install-sandbox" in task["summary"]
    assert fake.agent_requests() == []
