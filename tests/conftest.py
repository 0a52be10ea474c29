from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from claudeserver.api.app import create_app
from claudeserver.settings import Settings
from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model

TERMINAL = {"completed", "failed", "cancelled"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small Python project with one regression test."""
    root = tmp_path / "project"
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_existing.py").write_text(
        "def test_existing():\n    assert 1 + 1 == 2\n"
    )
    return root


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path / 'tasks.db'}",
        claude_cli_command=None,
        human_think_seconds=0.05,
        human_seed=7,
        max_iterations=8,
        workspaces_dir=tmp_path / "workspaces",
    )


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Model], FakeAnthropic]]:
    """Start a fake Anthropic API for a model script and point the CLI at it."""
    started: list[FakeAnthropic] = []

    def start(model: Model) -> FakeAnthropic:
        fake = FakeAnthropic(model).start()
        started.append(fake)
        for key, value in fake.env().items():
            monkeypatch.setenv(key, value)
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def wait_for(
    client: TestClient, task_id: str, *, until: set[str] = TERMINAL, timeout: float = 90
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/api/v1/tasks/{task_id}/status").json()
        if body["status"] in until:
            return client.get(f"/api/v1/tasks/{task_id}").json()
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not reach {until}: {body}")


def submit(client: TestClient, project: Path, description: str) -> str:
    session = client.post("/api/v1/sessions", json={"project_path": str(project)})
    assert session.status_code == 201, session.text
    task = client.post(
        "/api/v1/tasks", json={"session_id": session.json()["id"], "description": description}
    )
    assert task.status_code == 201, task.text
    assert task.json()["status"] == "pending"
    return str(task.json()["id"])


os.environ.setdefault("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
