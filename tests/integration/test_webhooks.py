"""A task's end is POSTed to its webhook, signed, retried, and recorded on the task."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claudeserver.domain.webhooks import SIGNATURE_HEADER, sign
from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from tests.conftest import submit, wait_for
from tests.models import calculator

pytestmark = pytest.mark.agent


class Receiver:
    """A loopback HTTP server that fails the first `failures` POSTs with 500."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.received.append((dict(self.headers), body))
                failing = len(receiver.received) <= receiver.failures
                self.send_response(500 if failing else 204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _within_seconds(seconds: float, done: Callable[[], bool]) -> None:
    """Return once `done()` is true, or after `seconds` (the caller's asserts then fail)."""
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver(failures=1)
    yield server
    server.close()


def test_completed_task_is_posted_signed_with_a_retry(
    api: TestClient,
    project: Path,
    receiver: Receiver,
    fake_model: Callable[[Model], FakeAnthropic],
) -> None:
    settings = api.app.state.settings  # type: ignore[attr-defined]
    settings.webhook_secret = "hook-secret"
    settings.webhook_retry_seconds = 0.1
    fake_model(calculator())
    task_id = submit(api, project, "Add", webhook_url=receiver.url)
    assert wait_for(api, task_id)["status"] == "completed"

    _within_seconds(10, lambda: len(receiver.received) >= 2)
    assert len(receiver.received) == 2  # one failure, then delivered
    headers, body = receiver.received[-1]
    assert headers[SIGNATURE_HEADER] == sign("hook-secret", body)
    assert headers["X-Claudeserver-Event"] == "task.completed"
    payload = json.loads(body)
    assert payload["id"] == task_id and payload["status"] == "completed"
    assert payload["test_summary"]["failed"] == 0
    assert {k: payload["test_summary"][k] for k in ("pre_existing", "fixed", "flaky")} == {
        "pre_existing": 0, "fixed": 0, "flaky": 0,
    }  # fmt: skip

    time.sleep(0.2)
    interactions = api.get(f"/api/v1/tasks/{task_id}").json()["interactions"]
    deliveries = [i["data"] for i in interactions if i["kind"] == "webhook"]
    assert [(d["attempt"], d["delivered"]) for d in deliveries] == [(1, False), (2, True)]


def test_deleting_a_task_stops_its_webhook_retries_quietly(
    api: TestClient,
    project: Path,
    fake_model: Callable[[Model], FakeAnthropic],
    caplog: pytest.LogCaptureFixture,
) -> None:
    api.app.state.settings.webhook_retry_seconds = 0.5  # type: ignore[attr-defined]
    fake_model(calculator())
    failing = Receiver(failures=100)
    try:
        task_id = submit(api, project, "A", webhook_url=failing.url)
        assert wait_for(api, task_id)["status"] == "completed"
        _within_seconds(10, lambda: bool(failing.received))
        assert api.delete(f"/api/v1/tasks/{task_id}").status_code == 204
        time.sleep(2.5)  # the retries would have come at +0.5 s, +1.5 s and +3.5 s
    finally:
        failing.close()
    assert len(failing.received) <= 2  # at most the one already on its way
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_bad_webhook_url_is_422(api: TestClient, project: Path) -> None:
    response = api.post(
        "/api/v1/sessions", json={"project_path": str(project), "webhook_url": "not a url"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "webhook_url"
