"""EXECUTOR=procrastinate in one `serve` process (API plus worker), and its settings."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from claudeserver.api.app import create_app
from claudeserver.cli import main
from claudeserver.domain import spending
from claudeserver.domain.executors import jobs
from claudeserver.domain.taskrun import WORKER_NAME
from claudeserver.persistence import daily_spend
from claudeserver.settings import Settings
from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from tests.conftest import wait_for
from tests.integration.test_webhooks import Receiver
from tests.models import calculator

pytestmark = pytest.mark.scaleout


@pytest.mark.agent
def test_serve_runs_queued_tasks_and_announces_their_end(
    settings: Settings,
    postgres_url: str,
    project: Path,
    fake_model: Callable[[Model], FakeAnthropic],
) -> None:
    fake_model(calculator())
    receiver = Receiver(failures=0)
    queued = settings.model_copy(update={"executor": "procrastinate", "database_url": postgres_url})
    try:
        with TestClient(create_app(queued)) as api:
            session = api.post("/api/v1/sessions", json={"project_path": str(project)}).json()
            body = {"session_id": session["id"], "description": "Add", "webhook_url": receiver.url}
            task = wait_for(api, api.post("/api/v1/tasks", json=body).json()["id"], timeout=60)
            deadline = time.monotonic() + 10
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.05)
    finally:
        receiver.close()
    assert task["status"] == "completed", task["summary"]
    assert task["worker"] == WORKER_NAME  # this process's own worker ran it
    assert [h["X-Claudeserver-Event"] for h, _ in receiver.received] == ["task.completed"]


def test_queue_needs_postgresql() -> None:
    with pytest.raises(ValidationError, match="EXECUTOR=procrastinate needs a PostgreSQL"):
        Settings(_env_file=None, executor="procrastinate")


def test_heartbeat_must_be_well_under_the_stall_timeout() -> None:
    with pytest.raises(ValidationError, match="WORKER_STALLED_SECONDS"):
        Settings(_env_file=None, worker_heartbeat_seconds=10, worker_stalled_seconds=15)


@pytest.mark.parametrize("argv", [["serve", "--no-executor"], ["worker"]])
def test_queue_commands_need_the_queue_executor(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EXECUTOR", "local")
    assert main(argv) == 2
    assert "EXECUTOR=procrastinate" in capsys.readouterr().err


@pytest.mark.agent
def test_a_spent_daily_budget_holds_queued_tasks_until_a_later_look(
    settings: Settings,
    postgres_url: str,
    project: Path,
    fake_model: Callable[[Model], FakeAnthropic],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The job of a held task is retried later (every HOLD_RECHECK_SECONDS and at the next
    UTC day); by then a raised cap lets it run."""
    monkeypatch.setattr(jobs, "HOLD_RECHECK_SECONDS", 1)
    fake_model(calculator())
    queued = settings.model_copy(
        update={"executor": "procrastinate", "database_url": postgres_url, "daily_budget_usd": 1}
    )
    with TestClient(create_app(queued)) as api:
        with api.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
            daily_spend.add_spend(db, day=spending.day_of(spending.utc_now()), cost_usd=2)
        session = api.post("/api/v1/sessions", json={"project_path": str(project)}).json()
        body = {"session_id": session["id"], "description": "Add"}
        task_id = api.post("/api/v1/tasks", json=body).json()["id"]
        deadline = time.monotonic() + 20
        status = api.get(f"/api/v1/tasks/{task_id}/status").json()
        while not (status["progress"] or "").startswith("Waiting") and time.monotonic() < deadline:
            time.sleep(0.2)
            status = api.get(f"/api/v1/tasks/{task_id}/status").json()
        assert status["status"] == "pending" and "DAILY_BUDGET_USD=1" in status["progress"]
        time.sleep(2)  # looked at again: still held
        assert api.get(f"/api/v1/tasks/{task_id}/status").json()["status"] == "pending"

        queued.daily_budget_usd = 100  # as a restarted worker with a higher cap would have
        task = wait_for(api, task_id, timeout=60)
    assert task["status"] == "completed", task["summary"]
