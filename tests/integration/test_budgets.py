"""Spend limits with the real CLI: the server-wide budget per task attempt (a session's
overrides it), and the daily cap that holds tasks back until the next UTC day or a higher
cap."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claudeserver.api.app import create_app
from claudeserver.domain import spending
from claudeserver.persistence import daily_spend
from claudeserver.settings import Settings
from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from tests.conftest import wait_for
from tests.models import FIXED, calculator

pytestmark = pytest.mark.agent

FakeFactory = Callable[[Model], FakeAnthropic]


def _task(api: TestClient, session_id: str) -> dict[str, object]:
    created = api.post("/api/v1/tasks", json={"session_id": session_id, "description": "Add"})
    assert created.status_code == 201, created.text
    return dict(created.json())


def _session(api: TestClient, project: Path, **options: object) -> str:
    body = {"project_path": str(project), **options}
    created = api.post("/api/v1/sessions", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_the_server_wide_budget_applies_unless_the_session_sets_its_own(
    settings: Settings, project: Path, fake_model: FakeFactory
) -> None:
    fake_model(calculator(first=FIXED))
    settings.max_budget_usd = 0.0001
    with TestClient(create_app(settings)) as api:
        spent = wait_for(api, str(_task(api, _session(api, project))["id"]))
        assert spent["status"] == "failed"
        assert "Budget exhausted" in spent["summary"], spent["summary"]
        assert "of MAX_BUDGET_USD=0.0001 USD" in spent["summary"]

        generous = _session(api, project, max_budget_usd=50)
        assert api.get(f"/api/v1/sessions/{generous}").json()["max_budget_usd"] == 50
        task = wait_for(api, str(_task(api, generous)["id"]))
        assert task["status"] == "completed", task["summary"]


def test_a_spent_daily_budget_holds_new_tasks_until_the_cap_is_raised(
    settings: Settings, project: Path, fake_model: FakeFactory
) -> None:
    fake_model(calculator(first=FIXED))
    settings.daily_budget_usd = 0.001
    second_project = shutil.copytree(project, project.with_name("second"))
    with TestClient(create_app(settings)) as api:
        first = wait_for(api, str(_task(api, _session(api, project))["id"]))
        assert first["status"] == "completed", first["summary"]
        with api.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
            spent = daily_spend.spent_on(db, day=spending.day_of(spending.utc_now()))
        assert spent == pytest.approx(first["cost_usd"]) and spent > 0.001

        held = _task(api, _session(api, second_project))
        assert any("DAILY_BUDGET_USD=0.001" in w for w in held["warnings"])  # type: ignore[union-attr]
        time.sleep(1.5)
        status = api.get(f"/api/v1/tasks/{held['id']}/status").json()
        assert status["status"] == "pending"
        assert status["progress"].startswith("Waiting: all tasks together spent DAILY_BUDGET_USD")
        progress = [
            i for i in api.get(f"/api/v1/tasks/{held['id']}").json()["interactions"]
            if i["kind"] == "progress"
        ]  # fmt: skip
        assert len(progress) == 1  # said once, not at every look

    settings.daily_budget_usd = 100
    with TestClient(create_app(settings)) as api:
        task = wait_for(api, str(held["id"]))
        assert task["status"] == "completed", task["summary"]


def test_held_tasks_start_when_the_utc_day_changes(
    settings: Settings,
    project: Path,
    fake_model: FakeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = {"now": datetime(2026, 12, 3, 23, 59, 58, 500_000, tzinfo=timezone.utc)}
    monkeypatch.setattr(spending, "utc_now", lambda: clock["now"])
    fake_model(calculator(first=FIXED))
    settings.daily_budget_usd = 1
    with TestClient(create_app(settings)) as api:
        with api.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
            daily_spend.add_spend(db, day="2026-12-03", cost_usd=1.5)
        held = _task(api, _session(api, project))
        wait_for(api, str(held["id"]), until={"pending"})
        time.sleep(0.5)
        assert (
            api.get(f"/api/v1/tasks/{held['id']}/status").json()["progress"].startswith("Waiting:")
        )
        clock["now"] += timedelta(seconds=3)  # 00:00:01.5 UTC: a new day, nothing spent yet
        task = wait_for(api, str(held["id"]), timeout=60)
        assert task["status"] == "completed", task["summary"]
