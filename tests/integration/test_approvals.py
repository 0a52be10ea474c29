"""A person at the wheel, on the real CLI: grey-zone calls held for an answer given through
the API, a remembered answer, and a call nobody answers in time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from claudeserver.testing.script import bash
from tests.conftest import wait_for
from tests.integration.test_webhooks import Receiver
from tests.models import calculator

pytestmark = pytest.mark.agent

PUSH = "git push origin claudeserver/demo"
ALLOWED = "allowed: no command in this line is destructive or outside the project"


def _pending(api: TestClient, count: int, timeout: float = 90) -> list[dict[str, Any]]:
    """The pending approvals, once there are `count` of them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending: list[dict[str, Any]] = api.get("/api/v1/approvals?status=pending").json()
        if len(pending) >= count:
            return pending
        time.sleep(0.1)
    raise AssertionError(f"no {count} pending approvals: {pending}")


def test_held_calls_are_answered_remembered_or_left_to_the_simulated_human(
    api: TestClient, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    settings = api.app.state.settings  # type: ignore[attr-defined]
    settings.approval_timeout_seconds = 60
    receiver = Receiver(failures=0)
    steps = (
        bash("touch approved.txt"),  # held: the user allows it, remembered
        bash("touch approved.txt"),  # the remembered answer: not asked again
        bash("touch refused.txt"),  # held: the user denies it
        bash(PUSH),  # held: nobody answers, the simulated human denies it as the policy does
    )
    fake = fake_model(calculator(task_steps=steps))
    session = api.post(
        "/api/v1/sessions",
        json={
            "project_path": str(project), "approvals": "human", "webhook_url": receiver.url,
            "policy": {"ask_rules": ["Bash(touch *)"]},
        },
    ).json()  # fmt: skip
    task_id = api.post(
        "/api/v1/tasks", json={"session_id": session["id"], "description": "Add"}
    ).json()["id"]

    (first,) = _pending(api, 1)
    assert (first["task_id"], first["input_summary"]) == (task_id, "touch approved.txt")
    status = api.get(f"/api/v1/tasks/{task_id}/status").json()
    assert status["status"] == "paused"
    assert status["progress"] == (
        "Waiting for approval: `touch approved.txt` matches the ask rule `Bash(touch *)`"
    )
    assert not (project / "approved.txt").exists()  # held at the call
    answer = {"decision": "allow", "remember": True}
    assert api.post(f"/api/v1/approvals/{first['id']}", json=answer).status_code == 200

    (second,) = _pending(api, 1)
    assert second["input_summary"] == "touch refused.txt"
    assert (project / "approved.txt").exists()
    settings.approval_timeout_seconds = 1  # the next call waits for nobody for long
    answer = {"decision": "deny", "reason": "not that file"}
    assert api.post(f"/api/v1/approvals/{second['id']}", json=answer).status_code == 200

    task = wait_for(api, task_id)
    assert task["status"] == "completed", task["summary"]
    assert not (project / "refused.txt").exists()
    approvals = api.get(f"/api/v1/tasks/{task_id}/approvals").json()
    assert [(a["input_summary"], a["status"], a["decided_by"]) for a in approvals] == [
        ("touch approved.txt", "allowed", "user"),
        ("touch refused.txt", "denied", "user"),
        (PUSH, "denied", "simulated_human"),
    ]
    assert api.get(f"/api/v1/sessions/{session['id']}").json()["policy"]["approved_rules"] == [
        "Bash(touch approved.txt)"
    ]
    # The timeline: who answered each, and what the gate then decided.
    timeout = (
        "No answer within APPROVAL_TIMEOUT_SECONDS=1: the simulated human denied it, as the "
        "policy does unattended"
    )
    timeline = [
        (i["role"], i["kind"], i["content"])
        for i in task["interactions"]
        if i["kind"] in ("approval", "allow", "deny")
    ]
    assert timeline[:7] == [
        ("user", "approval", "Allowed by the user (remembered: Bash(touch approved.txt))"),
        ("permission", "allow", "allowed by the user"),
        ("permission", "allow", ALLOWED),
        ("user", "approval", "Denied by the user: not that file"),
        ("permission", "deny", "denied by the user: not that file"),
        ("human", "approval", timeout),
        ("permission", "deny", f"denied: `git push` is disabled for this project ({timeout})"),
    ]  # fmt: skip
    # The agent was told each answer as the result of its call.
    results = [json.dumps(b) for r in fake.agent_requests() for b in r.tool_results_since(-1)]
    assert any("denied by the user: not that file" in m for m in results)
    # The webhook heard of each call that waited.
    waiting = [json.loads(body) for _, body in receiver.received]
    waiting = [w for w in waiting if w.get("event") == "approval_waiting"]
    assert [w["approval_id"] for w in waiting] == [a["id"] for a in approvals]
    assert waiting[0]["summary"] == first["question"] and waiting[0]["task_id"] == task_id
    receiver.close()
