"""Nothing the agent influences runs with the server's rights: real CLI, fake model,
real bubblewrap. The agent's commands and the tests it writes see none of the server's
secrets and cannot write outside the workspace."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claudeserver.testing import FakeAnthropic, Rule, ScriptedModel
from claudeserver.testing.fake_anthropic import Model
from claudeserver.testing.script import bash, write
from tests.conftest import submit, wait_for

pytestmark = pytest.mark.agent

SECRETS = {"WEBHOOK_SECRET": "whsec-server-value", "PAYMENTS_TOKEN": "pay-token-value"}
IMPLEMENTATION = "def add(a, b):\n    return a + b\n"
TESTS = (
    "from mathutil import add\n\n"
    "def test_add():\n    assert add(2, 3) == 5\n\n"
    "def test_add_negative():\n    assert add(-1, -1) == -2\n"
)
# A conftest.py the agent writes: the test gate runs it. It tries to read credentials
# and the server's environment and to write them outside the project.
CONFTEST = """\
import os, pathlib, sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
seen = [os.environ.get(name, "") for name in {names!r}]
for path in ({key!r}, {anthropic!r}):
    try:
        seen.append(pathlib.Path(path).read_text())
    except OSError as exc:
        seen.append("unreadable")
for target in ({outside!r}, {home_rc!r}):
    try:
        pathlib.Path(target).write_text(repr(seen))
    except OSError:
        pass
pathlib.Path(__file__).with_name("seen.txt").write_text(repr(seen))
"""


@pytest.fixture
def server_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("-----BEGIN PRIVATE KEY----- server")
    monkeypatch.setenv("HOME", str(home))
    return home


def test_agent_commands_and_agent_written_tests_see_no_server_secret(
    api: TestClient,
    project: Path,
    tmp_path: Path,
    server_home: Path,
    fake_model: Callable[[Model], FakeAnthropic],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    outside = tmp_path / "outside"
    outside.mkdir()
    conftest = CONFTEST.format(
        names=[*SECRETS, "ANTHROPIC_API_KEY"],
        key=str(server_home / ".ssh" / "id_rsa"),
        anthropic=str(server_home / ".claude.json"),
        outside=str(outside / "leak.txt"),
        home_rc=str(server_home / ".bashrc"),
    )
    model = ScriptedModel(
        [
            Rule(
                "## Task",
                [
                    bash(
                        "printenv WEBHOOK_SECRET PAYMENTS_TOKEN ANTHROPIC_API_KEY; "
                        "echo file-limit=$(ulimit -f) checked-env",
                        "look at the environment",
                    ),
                    write("mathutil.py", IMPLEMENTATION),
                    write("conftest.py", conftest),
                ],
                done="I implemented add.",
            ),
            Rule("write tests", [write("tests/test_mathutil.py", TESTS)], done="Tests written."),
        ]
    )
    fake = fake_model(model)
    task = wait_for(api, submit(api, project, "Add an add(a, b) function in mathutil.py"))

    results = [i["content"] for i in task["interactions"] if i["kind"] == "tool_result"]
    printed = next(r for r in results if "checked-env" in r)
    api_key = fake.env()["ANTHROPIC_API_KEY"]
    for value in [*SECRETS.values(), api_key]:
        assert value not in printed, printed
    assert "file-limit=1048576 checked-env" in printed  # 1 GiB in 1 KiB blocks
    # The test gate ran the agent's conftest.py: confined, it saw nothing and wrote nowhere.
    seen = (project / "seen.txt").read_text()
    assert "whsec" not in seen and "pay-token" not in seen and "PRIVATE KEY" not in seen, seen
    assert seen.count("unreadable") == 2 or "''" in seen
    assert list(outside.iterdir()) == []
    assert not (server_home / ".bashrc").exists()
    assert task["status"] == "completed", task["summary"]
