"""Per-session policy, server-wide policy defaults, and untrusted project settings."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from claudeserver.settings import Settings
from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from claudeserver.testing.script import bash, write
from tests.conftest import wait_for
from tests.models import calculator

pytestmark = pytest.mark.agent

FakeFactory = Callable[[Model], FakeAnthropic]


def _session(api: TestClient, project: Path, **extra: object) -> dict[str, object]:
    response = api.post("/api/v1/sessions", json={"project_path": str(project), **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_session_policy_widens_and_narrows_what_the_agent_may_do(
    api: TestClient, project: Path, tmp_path: Path, fake_model: FakeFactory
) -> None:
    shared = tmp_path / "shared-cache"
    shared.mkdir()
    (project / "CLAUDE.md").write_text("Always write docstrings.\n")
    hook_canary = tmp_path / "hook-ran"
    (project / ".claude").mkdir()
    (project / ".claude" / "settings.json").write_text(
        json.dumps(
            {
                "hooks": {
                    "SessionStart": [
                        {"hooks": [{"type": "command", "command": f"touch {hook_canary}"}]}
                    ]
                }
            }
        )
    )
    steps = (
        write(str(shared / "notes.txt"), "allowed by extra_dirs"),
        bash("echo denied by a rule"),
    )
    fake = fake_model(calculator(task_steps=steps))
    session = _session(
        api, project, policy={"extra_dirs": [str(shared)], "deny_rules": ["Bash(echo *)"]}
    )
    created = api.post("/api/v1/tasks", json={"session_id": session["id"], "description": "Add"})
    task = wait_for(api, created.json()["id"])

    assert task["status"] == "completed", task["summary"]
    assert (shared / "notes.txt").read_text() == "allowed by extra_dirs"
    decisions = [
        (i["kind"], i["data"]["tool"]) for i in task["interactions"] if i["role"] == "permission"
    ]
    assert ("deny", "Bash") in decisions
    # The project's CLAUDE.md reached the agent as text; its hooks did not run.
    assert any("Always write docstrings." in r.system_text for r in fake.agent_requests())
    assert not hook_canary.exists()


@pytest.mark.parametrize(
    "policy",
    [
        {"allow_rules": ["Bash(unclosed"]},
        {"extra_dirs": ["relative/dir"]},
        {"allow_git_push": "yes"},
        {"surprise": True},
    ],
)
def test_invalid_session_policy_is_422(
    api: TestClient, project: Path, policy: dict[str, object]
) -> None:
    response = api.post("/api/v1/sessions", json={"project_path": str(project), "policy": policy})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "policy"


def test_policy_file_sets_server_defaults(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps({"deny_rules": ["Bash(make *)"], "allow_git_push": True}))
    line = {"tool": "Bash", "input": {"command": "make build"}, "cwd": str(tmp_path)}
    push = {"tool": "Bash", "input": {"command": "git push origin main"}, "cwd": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "claudeserver", "policy", "check"],
        input=f"{json.dumps(line)}\n{json.dumps(push)}\n",
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "POLICY_FILE": str(policy_file), "HOME": str(tmp_path)},
    )
    decisions = [json.loads(x)["decision"] for x in result.stdout.splitlines()]
    assert decisions == ["deny", "allow"]

    policy_file.write_text("{not json")
    with pytest.raises(ValidationError, match="POLICY_FILE"):
        Settings(_env_file=None, policy_file=policy_file)  # type: ignore[call-arg]
