"""Webhook formats (json, slack) chosen per session or task, checked against a local
receiver; any event formats, given its name and payload."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from claudeserver.api.app import create_app
from claudeserver.domain import webhooks
from claudeserver.persistence import approvals, tasks, testcases
from claudeserver.settings import Settings
from tests.integration.test_webhooks import Receiver

PUBLIC = "https://claude.example.com"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, run_worker=False)) as c:
        yield c


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(failures=0)
    yield server
    server.close()


def ended_task(client: TestClient, project: Path, session: dict[str, Any], **task: Any) -> str:
    session_id = client.post(
        "/api/v1/sessions", json={"project_path": str(project), **session}
    ).json()["id"]
    created = client.post(
        "/api/v1/tasks", json={"session_id": session_id, "description": "Fix <add> & co", **task}
    )
    assert created.status_code == 201, created.text
    task_id = str(created.json()["id"])
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        tasks.update_task(
            db,
            task_id=task_id,
            status="failed",
            summary="Failed: 1 of 3 tests failed",
            cost_usd=0.5,
        )
    return task_id


def deliver(client: TestClient, task_id: str, approval_id: str | None = None) -> bool:
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    options = {"secret": "s3", "attempts": 1, "base_delay": 0.0, "public_url": PUBLIC}
    return asyncio.run(webhooks.deliver(factory, task_id, **options, approval_id=approval_id))


def test_json_is_the_signed_status_with_a_link_to_the_task(
    client: TestClient, project: Path, receiver: Receiver
) -> None:
    task_id = ended_task(client, project, {"webhook_url": receiver.url})
    assert client.get(f"/api/v1/tasks/{task_id}").json()["webhook_format"] is None

    assert deliver(client, task_id)

    headers, raw = receiver.received[-1]
    assert headers["X-Claudeserver-Event"] == "task.failed"
    assert headers[webhooks.SIGNATURE_HEADER] == webhooks.sign("s3", raw)
    body = json.loads(raw)
    assert (body["id"], body["status"], body["description"]) == (
        task_id,
        "failed",
        "Fix <add> & co",
    )
    assert body["url"] == f"{PUBLIC}/#/tasks/{task_id}"
    assert body["test_summary"]["total"] == 0


def test_slack_gets_a_message_with_status_summary_tests_and_a_link(
    client: TestClient, project: Path, receiver: Receiver
) -> None:
    # The session's format, unless the task names its own.
    task_id = ended_task(client, project, {"webhook_url": receiver.url, "webhook_format": "slack"})
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        testcases.save_test_cases(
            db, task_id=task_id, test_type="generated",
            results=[_Result("t::a", "passed"), _Result("t::b", "failed")],
        )  # fmt: skip

    assert deliver(client, task_id)

    headers, raw = receiver.received[-1]
    assert headers["X-Claudeserver-Event"] == "task.failed"
    assert headers[webhooks.SIGNATURE_HEADER] == webhooks.sign("s3", raw)
    message = json.loads(raw)
    assert message["text"] == (
        f"*:x: Task failed*: <{PUBLIC}/#/tasks/{task_id}|Fix &lt;add&gt; &amp; co>\n"
        "Failed: 1 of 3 tests failed\nTests: 1 passed, 1 failed of 2\nCost: $0.50"
    )
    assert message["blocks"][0]["text"] == {"type": "mrkdwn", "text": message["text"]}

    # A call waiting for a person's approval, as a message too.
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        approval = approvals.create(
            db, task_id=task_id, session_id=client.get(f"/api/v1/tasks/{task_id}").json()[
                "session_id"], tool="Bash", input_summary="git push origin claudeserver/1234abcd",
            category="push", question="Pushing needs a person's approval.", unattended="deny",
            rules=[],
        )  # fmt: skip
        approval_id = approval.id
        db.commit()
    assert deliver(client, task_id, approval_id=approval_id)
    headers, raw = receiver.received[-1]
    assert headers["X-Claudeserver-Event"] == "approval.waiting"
    assert json.loads(raw)["text"] == (
        f"*:raising_hand: Approval waiting*: <{PUBLIC}/#/tasks/{task_id}|Fix &lt;add&gt; &amp; co>"
        "\nPushing needs a person's approval.\nBash: git push origin claudeserver/1234abcd"
    )

    records = client.get(f"/api/v1/tasks/{task_id}/interactions").json()["items"]
    sent = [(i["data"]["event"], i["data"]["format"]) for i in records if i["kind"] == "webhook"]
    assert sent == [("task.failed", "slack"), ("approval.waiting", "slack")]


def test_a_tasks_own_format_wins_and_unknown_formats_are_422(
    client: TestClient, project: Path, receiver: Receiver
) -> None:
    task_id = ended_task(
        client, project, {"webhook_format": "slack"}, webhook_url=receiver.url,
        webhook_format="json",
    )  # fmt: skip
    assert deliver(client, task_id)
    assert "text" not in json.loads(receiver.received[-1][1])

    bad = client.post(
        "/api/v1/sessions", json={"project_path": str(project), "webhook_format": "x"}
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "webhook_format"
    session_id = client.get(f"/api/v1/tasks/{task_id}").json()["session_id"]
    bad = client.post(
        "/api/v1/tasks",
        json={"session_id": session_id, "description": "y", "webhook_format": "teams"},
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "webhook_format"


def test_the_public_url_is_checked_and_defaults_to_the_servers_address(tmp_path: Path) -> None:
    def settings(**values: Any) -> Settings:
        return Settings(_env_file=None, token_file=tmp_path / "t", **values)  # type: ignore[call-arg]

    assert settings(public_url="https://claude.example.com/").dashboard_url == PUBLIC
    assert settings(host="0.0.0.0", port=9000).dashboard_url == "http://127.0.0.1:9000"
    assert settings(host="::1").dashboard_url == "http://[::1]:8000"
    for wrong in ("claude.example.com", "ftp://x", "https://x/?a=1"):
        with pytest.raises(ValidationError, match="PUBLIC_URL"):
            settings(public_url=wrong)


class _Result:
    def __init__(self, name: str, status: str) -> None:
        self.name, self.status, self.file_path = name, status, "t.py"
        self.output, self.duration = None, 0.1
