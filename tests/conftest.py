from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from claudeserver.api.app import create_app
from claudeserver.settings import Settings
from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from tests.web.live import live_server

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


PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
START_POSTGRES = Path(__file__).parents[1] / "scripts" / "start-postgres"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """Makes sure the loopback PostgreSQL runs (scripts/start-postgres), or skips."""
    started = subprocess.run([START_POSTGRES], capture_output=True, text=True, timeout=300)
    if started.returncode != 0:
        pytest.skip(f"PostgreSQL unavailable: {started.stderr.strip()}")
    return PG_ADMIN


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"claudeserver_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs a test against both supported databases."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tasks.db'}"
    return str(request.getfixturevalue("postgres_url"))


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
        # Tests that are not about authentication opt out of it explicitly; TestClient names
        # its server "testserver", which the Host check must let in.
        auth="none",
        allowed_hosts="testserver",
        token_file=tmp_path / "token",
    )


@pytest.fixture(scope="session", autouse=True)
def _no_pytest_plugins_in_test_runs() -> Iterator[None]:
    """The projects these tests make need no pytest plugins, and loading those installed
    beside this suite (hypothesis, schemathesis, playwright…) costs each run of their tests
    two seconds. Set once this process has loaded its own, so only its children see it."""
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    yield
    del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]


@pytest.fixture(autouse=True)
def _private_token_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test, server process or client reads or writes the developer's own token file."""
    monkeypatch.setenv("TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.delenv("CLAUDESERVER_TOKEN", raising=False)


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


@pytest.fixture
def idle_app(settings: Settings) -> FastAPI:
    """The app without its worker: tasks stay in whatever state a test puts them."""
    return create_app(settings, run_worker=False)


@pytest.fixture
def idle_server(idle_app: FastAPI) -> Iterator[str]:
    """`idle_app` served on loopback, for a browser or the command line."""
    with live_server(idle_app) as url:
        yield url


def sse_events(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Server-Sent Events from a stream's lines: {"id", "event", "data" (parsed)}."""
    event: dict[str, Any] = {}
    for line in lines:
        if line.startswith("id: "):
            event["id"] = int(line[4:])
        elif line.startswith("event: "):
            event["event"] = line[7:]
        elif line.startswith("data: "):
            event["data"] = json.loads(line[6:])
        elif line == "" and "event" in event:
            yield event
            event = {}


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


def submit(client: TestClient, project: Path, description: str, **session_options: Any) -> str:
    """A new session on `project` (with `session_options`) and a task in it: its id."""
    body = {"project_path": str(project), **session_options}
    session = client.post("/api/v1/sessions", json=body)
    assert session.status_code == 201, session.text
    task = client.post(
        "/api/v1/tasks", json={"session_id": session.json()["id"], "description": description}
    )
    assert task.status_code == 201, task.text
    assert task.json()["status"] == "pending"
    return str(task.json()["id"])


os.environ.setdefault("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
