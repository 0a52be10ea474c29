"""Missing or rejected credentials, with the real CLI: the task fails at the first refusal,
saying what to do, and /health and new tasks say so too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claudeserver.domain.credentials import KEY_VARIABLES, PROVIDER_SWITCHES
from claudeserver.testing import INVALID_API_KEY, FakeAnthropic, Rule, ScriptedModel
from claudeserver.testing.fake_anthropic import Model
from tests.conftest import submit, wait_for

pytestmark = pytest.mark.agent

ADVICE = ("ANTHROPIC_API_KEY", "CLAUDE_CLI_COMMAND", "ANTHROPIC_BASE_URL")


def _failed_at_once(task: dict[str, object]) -> None:
    assert task["status"] == "failed", task["summary"]
    assert all(word in str(task["summary"]) for word in ADVICE), task["summary"]
    assert task["pauses"] == 0 and task["iterations"] == 1
    interactions = task["interactions"]
    assert isinstance(interactions, list)
    assert not [i for i in interactions if i["role"] == "human" and i["kind"] != "prompt"]


def test_a_rejected_key_fails_the_task_at_the_first_answer(
    api: TestClient,
    project: Path,
    fake_model: Callable[[Model], FakeAnthropic],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = fake_model(ScriptedModel([Rule("## Task", [INVALID_API_KEY])]))
    task = wait_for(api, submit(api, project, "Add an add(a, b) function"))

    _failed_at_once(task)
    assert "HTTP 401" in task["summary"] and "Invalid API key" in task["summary"]
    assert len(fake.agent_requests()) == 1  # no retries
    health = api.get("/health").json()
    assert health["status"] == "degraded"
    assert health["credentials"].startswith("rejected: Invalid API key")
    assert "ANTHROPIC_API_KEY" in health["credentials"]
    assert "sk-ant-fake-key-for-tests" not in str(health)
    session_id = task["session_id"]
    created = api.post("/api/v1/tasks", json={"session_id": session_id, "description": "Again"})
    assert created.status_code == 201
    assert created.json()["warnings"][0].startswith("Credentials rejected: Invalid API key")

    # Other credentials: the rejection of the old ones no longer applies.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-another-fake-key")
    assert api.get("/health").json()["credentials"] == "ok: ANTHROPIC_API_KEY"


def test_no_credentials_at_all_fail_the_task_at_once(
    api: TestClient, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (*KEY_VARIABLES, "ANTHROPIC_BASE_URL", *PROVIDER_SWITCHES):
        monkeypatch.delenv(name, raising=False)
    # No stored login either: the CLI reads its own from these.
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    health = api.get("/health").json()
    assert health["status"] == "degraded"
    assert health["credentials"].startswith("missing: ")

    session = api.post("/api/v1/sessions", json={"project_path": str(project)}).json()
    created = api.post("/api/v1/tasks", json={"session_id": session["id"], "description": "Add"})
    assert created.status_code == 201
    assert created.json()["warnings"][0].startswith("Credentials missing: ")
    task = wait_for(api, created.json()["id"])

    _failed_at_once(task)
    assert "Not logged in" in task["summary"]
