"""Credentials, spend limits and the context window, without an agent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claudeserver.agent.events import TurnResult
from claudeserver.api.app import create_app
from claudeserver.domain import credentials, spending
from claudeserver.domain.executors import jobs
from claudeserver.domain.executors.queue import TaskRetry
from claudeserver.domain.handoff import context_full, hand_off_prompt
from claudeserver.domain.workspace import FileStat
from claudeserver.persistence import daily_spend
from claudeserver.settings import Settings
from claudeserver.testing import ModelRequest, Rule, ScriptedModel
from claudeserver.testing.script import COMPACT_SUMMARY


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    names = (*credentials.KEY_VARIABLES, credentials.GATEWAY_VARIABLE)
    for name in (*names, *credentials.PROVIDER_SWITCHES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude-config"))


@pytest.fixture
def client(settings: Settings, database_url: str) -> Iterator[TestClient]:
    settings.database_url = database_url  # SQLite and PostgreSQL
    with TestClient(create_app(settings, run_worker=False)) as c:
        yield c


def _db(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.sessionmaker()  # type: ignore[attr-defined]


@pytest.mark.usefixtures("no_credentials")
def test_credentials_are_named_never_shown(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert client.get("/health").json()["credentials"].startswith("missing: ")
    login = tmp_path / "claude-config" / ".credentials.json"
    login.parent.mkdir()
    login.write_text('{"secret": "sk-ant-stored-login-secret"}')
    assert client.get("/health").json()["credentials"] == "ok: the CLI's stored login"
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://gateway.internal")
    assert client.get("/health").json()["credentials"] == "ok: ANTHROPIC_BASE_URL (a gateway)"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret-value-1234")
    body = client.get("/health").json()
    assert body["credentials"] == "ok: ANTHROPIC_API_KEY"
    assert "sk-ant" not in str(body)


@pytest.mark.usefixtures("no_credentials")
def test_a_rejection_applies_to_the_same_credentials_until_a_task_completes(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-first-key-0000")
    with _db(client) as db:
        credentials.record_refusal(db, task_id="t1", message="Invalid API key · Fix it")
    health = client.get("/health").json()
    assert health["status"] == "degraded"
    assert health["credentials"].startswith("rejected: Invalid API key · Fix it (task t1, ")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-second-key-0000")
    assert client.get("/health").json()["credentials"] == "ok: ANTHROPIC_API_KEY"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-first-key-0000")
    with _db(client) as db:
        credentials.accepted(db)
    assert client.get("/health").json()["credentials"] == "ok: ANTHROPIC_API_KEY"


@pytest.mark.usefixtures("no_credentials")
def test_task_creation_warns_of_missing_credentials_and_a_spent_day(
    client: TestClient, settings: Settings, project: Path
) -> None:
    session = client.post(
        "/api/v1/sessions", json={"project_path": str(project), "max_budget_usd": 2.5}
    ).json()
    assert session["max_budget_usd"] == 2.5
    settings.daily_budget_usd = 1
    with _db(client) as db:
        daily_spend.add_spend(db, day=spending.day_of(spending.utc_now()), cost_usd=0.6)
        daily_spend.add_spend(db, day=spending.day_of(spending.utc_now()), cost_usd=0.6)
    created = client.post("/api/v1/tasks", json={"session_id": session["id"], "description": "x"})
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "pending" and body["context_restarts"] == 0
    assert [w.split(":")[0] for w in body["warnings"]] == ["Credentials missing", "Waiting"]
    assert "DAILY_BUDGET_USD=1 today" in body["warnings"][1]
    assert "warnings" not in client.get(f"/api/v1/tasks/{body['id']}").json()


def test_the_daily_cap_counts_the_current_utc_day_only(client: TestClient) -> None:
    with _db(client) as db:
        daily_spend.add_spend(db, day="2000-01-01", cost_usd=100)
        assert spending.daily_hold(db, 5) is None
        assert spending.daily_hold(db, None) is None
        spending.spend(db, 5)
        assert spending.daily_hold(db, 5) is not None
        assert spending.daily_hold(db, 5.01) is None


def test_the_utc_day_and_budgets() -> None:
    late = datetime(2026, 12, 3, 23, 59, 30, tzinfo=timezone.utc)
    assert spending.seconds_to_next_day(late) == 30
    assert spending.day_of(late) == "2026-12-03"
    assert spending.task_budget(task=1, session=2, default=10) == (1, "the task's max_budget_usd")
    assert (
        spending.task_budget(task=None, session=2, default=10)[1] == "the session's max_budget_usd"
    )
    assert spending.task_budget(task=None, session=None, default=10) == (10, "MAX_BUDGET_USD")


def test_a_held_job_is_retried_later_and_an_interrupted_one_at_once() -> None:
    retry = TaskRetry()
    held = retry.get_retry_decision(exception=jobs.HeldBack("spent", 120), job=None)  # type: ignore[arg-type]
    interrupted = retry.get_retry_decision(exception=jobs.Interrupted("stop"), job=None)  # type: ignore[arg-type]
    assert held is not None and held.retry_at is not None
    assert interrupted is not None and held.retry_at > interrupted.retry_at  # type: ignore[operator]
    assert retry.get_retry_decision(exception=ValueError(), job=None) is None  # type: ignore[arg-type]


def _result(text: str, status: int | None = 400) -> TurnResult:
    return TurnResult(True, "success", text, None, 0.0, {}, 0, 0, status)


def test_what_counts_as_a_full_context_window_and_a_refusal() -> None:
    assert context_full(_result("Prompt is too long · automatic compaction failed"))
    assert context_full(_result("Autocompact is thrashing: the context refilled", None))
    assert not context_full(_result("Overloaded", 529))
    assert credentials.is_refusal(None, "Not logged in · Please run /login")
    assert credentials.is_refusal(401, "anything")
    assert not credentials.is_refusal(400, "prompt is too long")


def test_the_hand_off_stays_bounded() -> None:
    changes = [FileStat(f"f{n}.py", n, None) for n in range(60)]
    text = hand_off_prompt(
        task="## Task\nDo it", changes=changes, failing=[f"t{n}" for n in range(30)],
        summary="s" * 10_000, last_prompt="p" * 50_000,
    )  # fmt: skip
    assert "- f0.py (+0 -?)" in text and "… and 10 more files" in text
    assert "- t19\n- … and 10 more" in text
    assert len(text) < 16_000


def test_the_fake_answers_compaction_requests_with_a_summary() -> None:
    ask = "Your task is to create a detailed summary of the conversation so far, paying…"
    request = ModelRequest("/v1/messages", {"messages": [
        {"role": "user", "content": "## Task\nx"}, {"role": "user", "content": ask},
    ], "tools": [{}]})  # fmt: skip
    assert request.is_compaction
    assert ScriptedModel([Rule("## Task", [], done="no")])(request) == COMPACT_SUMMARY


def test_disk_use_counts_blocks_once_per_file_and_follows_no_link(tmp_path: Path) -> None:
    """What the disk cap measures: a sparse file holds nothing, a hard link counts once,
    a symlink to a big file elsewhere is not that file; the largest files are named."""
    import os

    from claudeserver.domain.disk_use import MB, DiskCap, measure

    workspace, home, elsewhere = tmp_path / "ws", tmp_path / "home", tmp_path / "elsewhere"
    for directory in (workspace / "build", home / ".cache", elsewhere):
        directory.mkdir(parents=True)
    (elsewhere / "huge.bin").write_bytes(os.urandom(4 * MB))
    os.symlink(elsewhere / "huge.bin", workspace / "link.bin")
    with open(workspace / "sparse.img", "wb") as sparse:
        sparse.truncate(100 * 1024 * MB)
    cap = DiskCap.start((workspace, home), limit_mb=2)
    assert cap.at_start < MB and cap.excess() is None

    (workspace / "build" / "out.bin").write_bytes(os.urandom(2 * MB))
    os.link(workspace / "build" / "out.bin", home / ".cache" / "same.bin")
    (home / ".cache" / "pip.whl").write_bytes(os.urandom(MB // 2))
    usage = measure((workspace, home))
    assert 2.5 * MB <= usage.total - cap.at_start < 2.6 * MB
    assert [path.name for _, path in usage.largest][:2] in (["out.bin", "pip.whl"],
                                                            ["same.bin", "pip.whl"])  # fmt: skip
    problem = cap.excess()
    assert problem is not None and problem.startswith("Disk limit: the task added 2.5 MB")
    assert "over WORKSPACE_DISK_LIMIT_MB=2. Largest files: " in problem
    assert DiskCap.start((workspace, home), limit_mb=0).excess() is None  # 0: no cap
