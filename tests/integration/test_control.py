"""Live events and control with the real CLI: cancel, messages, retry, budget, SSE replay."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claudeserver.domain.processes import task_pids
from claudeserver.testing import ApiError, FakeAnthropic, Rule, ScriptedModel, Stall
from claudeserver.testing.fake_anthropic import Model
from claudeserver.testing.script import bash, write
from tests.conftest import sse_events, submit, wait_for
from tests.models import BUGGY, FIXED, adds_sub, calculator

pytestmark = pytest.mark.agent

FakeFactory = Callable[[Model], FakeAnthropic]


def _cancel_within_5s(api: TestClient, task_id: str) -> None:
    started = time.monotonic()
    response = api.post(f"/api/v1/tasks/{task_id}/cancel")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert time.monotonic() - started < 5
    deadline = time.monotonic() + 5
    while task_pids(task_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert task_pids(task_id) == [], "processes of the cancelled task are still alive"


def test_cancel_while_running(api: TestClient, project: Path, fake_model: FakeFactory) -> None:
    fake_model(ScriptedModel([Rule("## Task", [Stall(60)])]))
    task_id = submit(api, project, "Take forever")
    wait_for(api, task_id, until={"running"})
    deadline = time.monotonic() + 30
    while not task_pids(task_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert task_pids(task_id), "the agent process never started"
    _cancel_within_5s(api, task_id)

    task = api.get(f"/api/v1/tasks/{task_id}").json()
    assert task["summary"] == "Cancelled: cancelled by the user"
    assert api.post(f"/api/v1/tasks/{task_id}/cancel").status_code == 200  # twice is harmless


def test_cancel_while_paused(
    api: TestClient, project: Path, fake_model: FakeFactory, settings: object
) -> None:
    api.app.state.settings.human_think_seconds = 60  # type: ignore[attr-defined]
    fake_model(calculator(task_steps=tuple(bash(f"echo {n}") for n in range(6))))
    task_id = submit(api, project, "Add")
    wait_for(api, task_id, until={"paused"}, timeout=60)
    _cancel_within_5s(api, task_id)


def test_cancel_while_testing(api: TestClient, project: Path, fake_model: FakeFactory) -> None:
    slow_tests = "import time\n\ndef test_a():\n    time.sleep(60)\n\ndef test_b():\n    pass\n"
    fake_model(
        ScriptedModel(
            [
                Rule("## Task", [write("mathutil.py", BUGGY)]),
                Rule("write tests", [write("tests/test_slow.py", slow_tests)]),
            ]
        )
    )
    task_id = submit(api, project, "Add")
    wait_for(api, task_id, until={"testing"}, timeout=60)
    time.sleep(0.5)  # let pytest start
    _cancel_within_5s(api, task_id)


def test_cancel_finished_task_is_a_conflict(
    api: TestClient, project: Path, fake_model: FakeFactory
) -> None:
    fake_model(calculator())
    task_id = submit(api, project, "Add")
    assert wait_for(api, task_id)["status"] == "completed"
    response = api.post(f"/api/v1/tasks/{task_id}/cancel")
    assert response.status_code == 409
    assert "completed" in response.json()["detail"]


def test_message_reaches_the_agent(api: TestClient, project: Path, fake_model: FakeFactory) -> None:
    fake = fake_model(calculator(task_steps=(Stall(1.5, then=bash("echo thinking")),)))
    task_id = submit(api, project, "Add")
    wait_for(api, task_id, until={"running"})
    time.sleep(0.5)
    response = api.post(
        f"/api/v1/tasks/{task_id}/messages", json={"content": "Please use type hints."}
    )
    assert response.status_code == 202, response.text
    task = wait_for(api, task_id)
    assert task["status"] == "completed"
    user = [i for i in task["interactions"] if i["role"] == "user"]
    assert [u["content"] for u in user] == ["Please use type hints."]
    assert any("Please use type hints." in r.conversation_text for r in fake.agent_requests())


def test_a_follow_up_does_not_hand_the_agent_earlier_messages_again(
    api: TestClient, project: Path, fake_model: FakeFactory
) -> None:
    fake = fake_model(calculator(task_steps=(Stall(1.5, then=bash("echo thinking")),)))
    task_id = submit(api, project, "Add")
    wait_for(api, task_id, until={"running"})
    time.sleep(0.5)
    api.post(f"/api/v1/tasks/{task_id}/messages", json={"content": "Please use type hints."})
    assert wait_for(api, task_id)["status"] == "completed"

    fake.model = adds_sub()
    api.post(f"/api/v1/tasks/{task_id}/follow-up", json={"content": "Also add sub."})
    assert wait_for(api, task_id)["status"] == "completed"
    last = fake.agent_requests()[-1].conversation_text
    assert "Also add sub." in last
    assert last.count("Please use type hints.") == 1  # once, in the first attempt


def test_retry_continues_the_same_claude_session(
    api: TestClient, project: Path, fake_model: FakeFactory
) -> None:
    failing = ScriptedModel([Rule("## Task", [ApiError(529)])])
    fake = fake_model(failing)
    task_id = submit(api, project, "Add")
    first = wait_for(api, task_id)
    assert first["status"] == "failed"

    fake.model = calculator()
    response = api.post(f"/api/v1/tasks/{task_id}/retry")
    assert response.status_code == 200, response.text
    assert response.json()["attempt"] == 2
    task = wait_for(api, task_id)
    assert task["status"] == "completed", task["summary"]
    assert task["claude_session_id"] == first["claude_session_id"]
    # The resumed conversation still carries the first attempt's prompt.
    assert fake.agent_requests()[-1].conversation_text.count("## Task") >= 2
    assert api.post(f"/api/v1/tasks/{task_id}/retry").status_code == 409


def test_a_failed_follow_up_is_retried_as_the_follow_up(
    api: TestClient, project: Path, fake_model: FakeFactory
) -> None:
    fake = fake_model(calculator(first=FIXED))
    task_id = submit(api, project, "Add")  # a plain folder: the follow-up works in place
    assert wait_for(api, task_id)["status"] == "completed"
    fake.model = ScriptedModel([Rule("## Follow-up", [ApiError(529)])])
    queued = api.post(f"/api/v1/tasks/{task_id}/follow-up", json={"content": "Also add sub."})
    assert queued.status_code == 200, queued.text
    assert wait_for(api, task_id)["status"] == "failed"

    fake.model = adds_sub()
    assert api.post(f"/api/v1/tasks/{task_id}/retry").status_code == 200
    task = wait_for(api, task_id)
    assert (task["status"], task["attempt"]) == ("completed", 3), task["summary"]
    opening = next(
        r.conversation_text for r in fake.agent_requests() if "attempt 3" in r.conversation_text
    )
    assert "It stopped because:" in opening and "## Follow-up\nAlso add sub." in opening
    assert "def sub" in (project / "mathutil.py").read_text()


def test_budget_smaller_than_one_turn_fails_the_task(
    api: TestClient, project: Path, fake_model: FakeFactory
) -> None:
    fake_model(calculator())
    session = api.post("/api/v1/sessions", json={"project_path": str(project)}).json()
    created = api.post(
        "/api/v1/tasks",
        json={"session_id": session["id"], "description": "Add", "max_budget_usd": 0.0001},
    )
    task = wait_for(api, created.json()["id"])
    assert task["status"] == "failed"
    assert "budget" in task["summary"].lower()


def test_sse_replays_everything_once_and_resumes_after_last_event_id(
    api: TestClient, project: Path, fake_model: FakeFactory
) -> None:
    fake_model(calculator())
    task_id = submit(api, project, "Add")
    first_half: list[dict[str, object]] = []
    with api.stream("GET", f"/api/v1/tasks/{task_id}/events") as stream:
        for event in sse_events(stream.iter_lines()):
            first_half.append(event)
            if len(first_half) == 12:
                break  # disconnect mid-task
    last_id = first_half[-1]["id"]
    with api.stream(
        "GET", f"/api/v1/tasks/{task_id}/events", headers={"Last-Event-ID": str(last_id)}
    ) as stream:
        second_half = list(sse_events(stream.iter_lines()))

    assert second_half[-1]["event"] == "done"
    assert second_half[-1]["data"]["status"] == "completed"
    ids = [e["id"] for e in first_half + second_half[:-1]]
    stored = api.get(f"/api/v1/tasks/{task_id}").json()["interactions"]
    assert ids == [i["sequence"] for i in stored]  # every event exactly once, in order
    types = {e["event"] for e in first_half + second_half}
    assert {"status", "interaction", "test_result", "done"} <= types


def test_websocket_streams_the_same_events(
    api: TestClient, project: Path, fake_model: FakeFactory
) -> None:
    fake_model(calculator())
    task_id = submit(api, project, "Add")
    wait_for(api, task_id)
    received = []
    with api.websocket_connect(f"/api/v1/tasks/{task_id}/ws") as ws:
        while True:
            message = ws.receive_json()
            received.append(message)
            if message["event"] == "done":
                break
    stored = api.get(f"/api/v1/tasks/{task_id}").json()["interactions"]
    assert [m["id"] for m in received[:-1]] == [i["sequence"] for i in stored]
