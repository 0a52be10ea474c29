"""Crashes, shutdowns, timeouts and faults, with the real CLI and a slow fake model."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from claudeserver.testing import ApiError, FakeAnthropic, Rule, ScriptedModel, Stall
from claudeserver.testing.fake_anthropic import Model
from claudeserver.testing.script import bash
from tests.checks import assert_resumed_intact
from tests.conftest import submit, wait_for
from tests.integration.server_process import ServerProcess
from tests.models import calculator, overloaded, slow_calculator

pytestmark = pytest.mark.agent

FakeFactory = Callable[[Model], FakeAnthropic]


@pytest.fixture
def server_env(tmp_path: Path, fake_model: FakeFactory) -> Iterator[dict[str, str]]:
    fake = fake_model(slow_calculator())
    yield {
        **fake.env(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'tasks.db'}",
        "HUMAN_THINK_SECONDS": "0.05",
        "HUMAN_SEED": "7",
        "MAX_ITERATIONS": "8",
        "WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }


def _get(server: ServerProcess, path: str) -> Any:
    return httpx.get(f"{server.url}{path}", timeout=10).json()


def _submit(server: ServerProcess, project: Path) -> str:
    session = httpx.post(f"{server.url}/api/v1/sessions", json={"project_path": str(project)})
    task = httpx.post(
        f"{server.url}/api/v1/tasks",
        json={"session_id": session.json()["id"], "description": "Add add(a, b)"},
    )
    return str(task.json()["id"])


def _wait_until(predicate: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def _tool_calls(server: ServerProcess, task_id: str) -> int:
    task = _get(server, f"/api/v1/tasks/{task_id}")
    return sum(1 for i in task["interactions"] if i["kind"] == "tool_use")


def test_task_survives_a_shutdown_and_then_a_crash(
    server_env: dict[str, str], project: Path, tmp_path: Path
) -> None:
    """Stopped (SIGTERM) mid-task, the server exits at once; killed (SIGKILL) mid-task
    later, it leaves the task behind too. Each next start resumes the same conversation."""
    log = tmp_path / "server.log"
    server = ServerProcess(server_env, log).start()
    try:
        task_id = _submit(server, project)
        before: dict[str, Any] = {}
        for sig, tool_calls in ((signal.SIGTERM, 2), (signal.SIGKILL, 4)):
            running = server
            _wait_until(lambda: _tool_calls(running, task_id) >= tool_calls)  # noqa: B023
            before = before or _get(server, f"/api/v1/tasks/{task_id}")
            started = time.monotonic()
            server.signal(sig)
            server.wait(timeout=10)
            assert time.monotonic() - started < 10
            if sig is signal.SIGTERM:
                assert "Shutting down" in log.read_text() or "shutdown" in log.read_text().lower()
            server = ServerProcess(server_env, log).start()
        _wait_until(
            lambda: _get(server, f"/api/v1/tasks/{task_id}/status")["status"] == "completed"
        )
        after = _get(server, f"/api/v1/tasks/{task_id}")
    finally:
        server.stop()

    assert after["resumes"] == 2
    assert_resumed_intact(before, after, project)


def test_idle_agent_times_out(api: TestClient, project: Path, fake_model: FakeFactory) -> None:
    api.app.state.settings.idle_timeout_seconds = 1.5  # type: ignore[attr-defined]
    fake_model(ScriptedModel([Rule("## Task", [Stall(30)])]))
    task = wait_for(api, submit(api, project, "Stall"))
    assert task["status"] == "failed"
    assert "IDLE_TIMEOUT_SECONDS=1.5" in task["summary"]


def test_missing_cli_fails_the_task_with_advice(
    api: TestClient, project: Path, fake_model: FakeFactory, tmp_path: Path
) -> None:
    fake_model(calculator())
    api.app.state.settings.claude_cli_command = str(tmp_path / "no-such-claude")  # type: ignore[attr-defined]
    task = wait_for(api, submit(api, project, "Add"))
    assert task["status"] == "failed"
    assert "CLAUDE_CLI_COMMAND" in task["summary"]


def test_deleted_project_fails_clearly(
    api: TestClient, project: Path, fake_model: FakeFactory
) -> None:
    import shutil

    def delete_project(_request: object) -> Any:
        shutil.rmtree(project)
        return bash("echo gone")

    fake_model(ScriptedModel([Rule("## Task", [delete_project])]))
    task = wait_for(api, submit(api, project, "Add"))
    assert task["status"] == "failed"
    assert "deleted" in task["summary"] or "does not exist" in task["summary"]


def test_api_retries_show_in_progress_and_are_not_idleness(
    api: TestClient, project: Path, fake_model: FakeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_model(overloaded(2))
    monkeypatch.setenv("CLAUDE_CODE_MAX_RETRIES", "3")  # the CLI retries by itself
    task = wait_for(api, submit(api, project, "Add"))

    assert task["status"] == "completed", task["summary"]
    progress = [i["content"] for i in task["interactions"] if i["kind"] == "progress"]
    assert "Claude API overloaded, retry 1/3" in progress
    assert "Claude API overloaded, retry 2/3" in progress


def test_rejected_credentials_fail_with_advice(
    api: TestClient, project: Path, fake_model: FakeFactory
) -> None:
    fake_model(
        ScriptedModel(
            [Rule("## Task", [ApiError(401, "authentication_error", "invalid x-api-key")])]
        )
    )
    task = wait_for(api, submit(api, project, "Add"))
    assert task["status"] == "failed"
    assert "ANTHROPIC_API_KEY" in task["summary"]
