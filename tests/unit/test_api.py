"""The HTTP contract without an agent: shapes, validation, errors, auth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from claudeserver.api.app import create_app
from claudeserver.persistence import interactions, tasks, testcases
from claudeserver.settings import Settings
from claudeserver.vocabulary import TaskStatus
from tests.conftest import sse_events, submit
from tests.web.live import live_server


@pytest.fixture
def client(settings: Settings, database_url: str) -> Iterator[TestClient]:
    # No worker: tasks stay pending, so the API can be checked on its own. Every test here
    # runs on SQLite and on PostgreSQL.
    settings.database_url = database_url
    with TestClient(create_app(settings, run_worker=False)) as c:
        yield c


NO_TESTS = {
    "total": 0, "passed": 0, "failed": 0, "pending": 0, "pre_existing": 0, "fixed": 0, "flaky": 0,
}  # fmt: skip


def test_session_lifecycle(client: TestClient, project: Path) -> None:
    created = client.post("/api/v1/sessions", json={"project_path": str(project)})
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {
        "id", "project_path", "repo_url", "isolation", "base_branch", "test_runner", "test_command",
        "model", "fallback_model", "webhook_url", "webhook_format", "policy",
        "trust_project_settings", "review", "baseline_failures", "test_network", "test_services",
        "max_budget_usd", "approvals", "created_at", "updated_at",
    }  # fmt: skip
    assert body["isolation"] == "none"  # not a git repository
    assert (body["baseline_failures"], body["test_network"]) == ("ignore", "loopback")
    assert body["approvals"] == "auto"
    assert body["project_path"] == str(project)
    assert client.get(f"/api/v1/sessions/{body['id']}").json() == body
    assert body in client.get("/api/v1/sessions").json()


def test_session_test_options_are_kept(client: TestClient, project: Path) -> None:
    options = {
        "baseline_failures": "block", "test_network": "fetch_domains",
        "test_services": ["127.0.0.1:5432", "localhost:6379"],
    }  # fmt: skip
    body = {"project_path": str(project), **options}
    created = client.post("/api/v1/sessions", json=body).json()
    fetched = client.get(f"/api/v1/sessions/{created['id']}").json()
    assert {k: fetched[k] for k in options} == options


def test_a_sessions_options_change_and_its_project_does_not(
    client: TestClient, project: Path
) -> None:
    created = client.post("/api/v1/sessions", json={"project_path": str(project)}).json()
    url = f"/api/v1/sessions/{created['id']}"
    changes = {
        "approvals": "human", "webhook_format": "slack", "review": True,
        "policy": {"ask_rules": ["Bash(make deploy*)"]}, "test_command": "make check",
    }  # fmt: skip
    changed = client.patch(url, json=changes)
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert {k: body[k] for k in ("approvals", "webhook_format", "review", "test_command")} == {
        "approvals": "human", "webhook_format": "slack", "review": True,
        "test_command": "make check",
    }  # fmt: skip
    assert body["policy"]["ask_rules"] == ["Bash(make deploy*)"]  # parsed as on create
    # Only what was given changes; a later change keeps the earlier ones.
    assert client.patch(url, json={"test_command": None}).json()["approvals"] == "human"
    assert client.get(url).json()["test_command"] is None
    untouched = {k: v for k, v in created.items() if k not in (*changes, "updated_at")}
    assert {k: client.get(url).json()[k] for k in untouched} == untouched

    # The project and the isolation are not options; bad values are refused by name.
    for bad, field in (
        ({"project_path": "/elsewhere"}, "project_path"), ({"isolation": "none"}, "isolation"),
        ({"approvals": "sometimes"}, "approvals"), ({"review": None}, "review"),
        ({"policy": {"allow_rules": 3}}, "policy"),
    ):  # fmt: skip
        answer = client.patch(url, json=bad)
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"][-1] == field or field in answer.text
    assert client.patch("/api/v1/sessions/nope", json={"review": True}).status_code == 404


def test_test_services_must_be_loopback_ports(client: TestClient, project: Path) -> None:
    for bad in (["db.internal:5432"], ["127.0.0.1"], ["10.1.2.3:80"]):
        body = {"project_path": str(project), "test_services": bad}
        answer = client.post("/api/v1/sessions", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["loc"][-1] == "test_services"


def test_tasks_newest_first_and_status_shape(client: TestClient, project: Path) -> None:
    session = client.post("/api/v1/sessions", json={"project_path": str(project)}).json()
    ids = [
        client.post(
            "/api/v1/tasks", json={"session_id": session["id"], "description": f"task {n}"}
        ).json()["id"]
        for n in range(3)
    ]
    listed = client.get(f"/api/v1/sessions/{session['id']}/tasks").json()
    assert [t["id"] for t in listed] == ids[::-1]
    status = client.get(f"/api/v1/tasks/{ids[0]}/status").json()
    assert status == {
        "id": ids[0],
        "status": "pending",
        "summary": None,
        "progress": None,
        "test_summary": NO_TESTS,
    }
    detail = client.get(f"/api/v1/tasks/{ids[0]}").json()
    assert detail["interactions"][0]["kind"] == "status" and detail["test_cases"] == []


def test_task_list_pages_with_a_cursor(client: TestClient, project: Path) -> None:
    session = client.post("/api/v1/sessions", json={"project_path": str(project)}).json()
    for n in range(5):
        client.post("/api/v1/tasks", json={"session_id": session["id"], "description": f"t{n}"})
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/tasks", params=params).json()
        seen += [t["description"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["t4", "t3", "t2", "t1", "t0"]
    assert client.get("/api/v1/tasks", params={"cursor": "garbage"}).status_code == 422
    assert client.get("/api/v1/tasks", params={"status": "bogus"}).status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sessions/nope",
        "/api/v1/sessions/nope/tasks",
        "/api/v1/tasks/nope",
        "/api/v1/tasks/nope/status",
        "/api/v1/tasks/nope/interactions",
        "/api/v1/tasks/nope/events",
    ],
)
def test_unknown_ids_are_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


def test_task_for_unknown_session_is_404(client: TestClient) -> None:
    response = client.post("/api/v1/tasks", json={"session_id": "nope", "description": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"project_path": "relative/dir"}, "project_path", "absolute"),
        ({"project_path": "/does/not/exist"}, "project_path", "existing directory"),
        ({"project_path": "/tmp/\x00x"}, "project_path", "NUL"),
        ({}, "body", "exactly one of project_path and repo_url"),
        ({"project_path": 5}, "project_path", "string"),
        ({"project_path": "/tmp", "baseline_failures": "no"}, "baseline_failures", "'block'"),
        ({"project_path": "/tmp", "test_network": "wifi"}, "test_network", "'fetch_domains'"),
    ],
)
def test_bad_session_bodies_name_the_field(
    client: TestClient, body: dict[str, object], field: str, words: str
) -> None:
    response = client.post("/api/v1/sessions", json=body)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(e["loc"][-1] == field and words.lower() in e["msg"].lower() for e in errors), errors


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"description": ""}, "description"),
        ({"description": "   "}, "description"),
        ({"max_budget_usd": -1}, "max_budget_usd"),
        ({"max_iterations": 0}, "max_iterations"),
        ({"model": "bad model name!"}, "model"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_task_bodies_name_the_field(
    client: TestClient, project: Path, extra: dict[str, object], field: str
) -> None:
    session = client.post("/api/v1/sessions", json={"project_path": str(project)}).json()
    body = {"session_id": session["id"], "description": "ok", **extra}
    response = client.post("/api/v1/tasks", json=body)
    assert response.status_code == 422
    assert any(e["loc"][-1] == field for e in response.json()["detail"])


def test_non_json_body_is_422(client: TestClient) -> None:
    response = client.post(
        "/api/v1/sessions", content=b"not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_messages_and_retry_need_the_right_status(client: TestClient, project: Path) -> None:
    session = client.post("/api/v1/sessions", json={"project_path": str(project)}).json()
    task = client.post("/api/v1/tasks", json={"session_id": session["id"], "description": "x"})
    task_id = task.json()["id"]
    assert (
        client.post(f"/api/v1/tasks/{task_id}/messages", json={"content": "hi"}).status_code == 409
    )
    assert client.post(f"/api/v1/tasks/{task_id}/retry").status_code == 409
    cancelled = client.post(f"/api/v1/tasks/{task_id}/cancel")
    assert cancelled.json()["status"] == "cancelled"  # a pending task cancels at once


def test_only_finished_tasks_and_sessions_delete(client: TestClient, project: Path) -> None:
    session = client.post("/api/v1/sessions", json={"project_path": str(project)}).json()
    create = {"session_id": session["id"], "description": "x"}
    first, second = (client.post("/api/v1/tasks", json=create).json()["id"] for _ in range(2))

    refused = client.delete(f"/api/v1/tasks/{first}")
    assert refused.status_code == 409
    assert refused.json()["detail"] == f"task {first} is pending; cancel it first"
    refused = client.delete(f"/api/v1/sessions/{session['id']}")
    assert refused.status_code == 409
    assert f"{first} (pending)" in refused.json()["detail"]
    assert client.get(f"/api/v1/tasks/{first}").status_code == 200  # nothing was deleted

    client.post(f"/api/v1/tasks/{first}/cancel")
    assert client.delete(f"/api/v1/tasks/{first}").status_code == 204
    for path in (f"/api/v1/tasks/{first}", f"/api/v1/tasks/{first}/interactions"):
        assert client.get(path).status_code == 404
    assert client.delete(f"/api/v1/tasks/{first}").status_code == 404
    assert [t["id"] for t in client.get("/api/v1/tasks").json()["items"]] == [second]

    client.post(f"/api/v1/tasks/{second}/cancel")
    assert client.delete(f"/api/v1/sessions/{session['id']}").status_code == 204
    assert client.get(f"/api/v1/sessions/{session['id']}").status_code == 404
    assert client.get(f"/api/v1/tasks/{second}").status_code == 404
    assert client.delete(f"/api/v1/sessions/{session['id']}").status_code == 404


def test_metrics_count_tasks_spend_and_tokens_for_prometheus(
    client: TestClient, project: Path
) -> None:
    session = client.post("/api/v1/sessions", json={"project_path": str(project)}).json()
    create = {"session_id": session["id"], "description": "x"}
    first, _ = (client.post("/api/v1/tasks", json=create).json()["id"] for _ in range(2))
    client.post(f"/api/v1/tasks/{first}/cancel")
    factory = cast(FastAPI, client.app).state.sessionmaker
    with factory() as db:
        tasks.update_task(db, task_id=first, cost_usd=0.25, input_tokens=1200, output_tokens=300)

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    by_status = {
        labels[0][1]: v for (name, labels), v in samples.items() if name == "claudeserver_tasks"
    }
    assert by_status == {s.value: 0 for s in TaskStatus} | {"pending": 1, "cancelled": 1}
    assert samples[("claudeserver_cost_usd", ())] == 0.25
    assert samples[("claudeserver_tokens", (("direction", "input"),))] == 1200
    assert samples[("claudeserver_tokens", (("direction", "output"),))] == 300
    assert samples[("claudeserver_sessions", ())] == 1
    assert samples[("process_resident_memory_bytes", ())] > 10_000_000


def test_a_task_page_says_where_the_event_stream_should_start(
    settings: Settings, project: Path
) -> None:
    with (
        live_server(create_app(settings, run_worker=False)) as url,
        httpx.Client(base_url=url, timeout=10) as http,
    ):
        session = http.post("/api/v1/sessions", json={"project_path": str(project)}).json()
        create = {"session_id": session["id"], "description": "x"}
        first, second = (http.post("/api/v1/tasks", json=create).json()["id"] for _ in range(2))
        page = http.get("/api/v1/tasks").json()
        assert page["last_event_id"] > 0
        http.post(f"/api/v1/tasks/{second}/cancel")
        after = {"after": page["last_event_id"]}
        with http.stream("GET", "/api/v1/events", params=after) as events:
            data = next(line for line in events.iter_lines() if line.startswith("data:"))
    # Only what changed since the page: no replay of the tasks' creation.
    event = json.loads(data.removeprefix("data:"))
    assert (event["task_id"], event["content"]) == (second, "cancelled"), event
    assert first != second


def test_a_followed_task_stream_goes_on_after_the_task_finishes(
    idle_server: str, project: Path
) -> None:
    with httpx.Client(base_url=idle_server, timeout=10) as http:
        session = http.post("/api/v1/sessions", json={"project_path": str(project)}).json()
        create = {"session_id": session["id"], "description": "x"}
        task_id = http.post("/api/v1/tasks", json=create).json()["id"]
        cancel = f"/api/v1/tasks/{task_id}/cancel"
        assert http.post(cancel).json()["status"] == "cancelled"
        seen: list[tuple[str, str]] = []
        path, follow = f"/api/v1/tasks/{task_id}/events", {"follow": "true"}
        with http.stream("GET", path, params=follow) as stream:
            for event in sse_events(stream.iter_lines()):
                data = event["data"]
                seen.append((event["event"], data.get("content") or data.get("status")))
                if seen[-1] == ("done", "cancelled") and len(seen) == 3:
                    # Someone retries the finished task elsewhere; it ends again.
                    assert http.post(f"/api/v1/tasks/{task_id}/retry").status_code == 200
                    assert http.post(cancel).json()["status"] == "cancelled"
                elif event["event"] == "done" and len(seen) > 3:
                    break
    assert seen == [
        ("status", "pending"), ("status", "cancelled"), ("done", "cancelled"),
        ("status", "pending"), ("status", "cancelled"), ("done", "cancelled"),
    ]  # fmt: skip


def test_oversized_body_is_413(settings: Settings, project: Path) -> None:
    settings.max_request_bytes = 2048
    with TestClient(create_app(settings, run_worker=False)) as client:
        session = client.post("/api/v1/sessions", json={"project_path": str(project)}).json()
        response = client.post(
            "/api/v1/tasks", json={"session_id": session["id"], "description": "x" * 5000}
        )
    assert response.status_code == 413
    assert "MAX_REQUEST_BYTES" in response.json()["detail"]


def test_tokens_guard_every_endpoint_but_health(settings: Settings) -> None:
    settings.auth = "token"
    settings.api_tokens = "secret-token-1,secret-token-2"
    with TestClient(create_app(settings, run_worker=False)) as client:
        assert client.get("/health").status_code == 200
        assert client.get("/api/v1/sessions").status_code == 401
        assert client.get("/metrics").status_code == 401  # spend and load are not public
        wrong = {"Authorization": "Bearer nope"}
        assert client.get("/api/v1/sessions", headers=wrong).status_code == 401
        right = {"Authorization": "Bearer secret-token-2"}
        assert client.get("/api/v1/sessions", headers=right).status_code == 200
        # In the query string only for event streams (tests/unit/test_server_boundary.py).
        query = client.get("/api/v1/sessions", params={"access_token": "secret-token-1"})
        assert query.status_code == 401


def test_project_roots_are_enforced_on_real_paths(
    settings: Settings, project: Path, tmp_path: Path
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    inside = allowed / "proj"
    inside.mkdir()
    sneaky = allowed / "link"
    sneaky.symlink_to(project)  # a symlink inside the root that points outside it
    settings.allowed_project_roots = str(allowed)
    with TestClient(create_app(settings, run_worker=False)) as client:
        assert (
            client.post("/api/v1/sessions", json={"project_path": str(inside)}).status_code == 201
        )
        for path in (project, sneaky, allowed / "proj" / ".." / ".." / "project"):
            response = client.post("/api/v1/sessions", json={"project_path": str(path)})
            assert response.status_code == 403, path
            assert "ALLOWED_PROJECT_ROOTS" in response.json()["detail"]


def test_health_reports_database_and_cli(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-a-key-for-this-test")
    body = client.get("/health").json()
    assert body["database"] == "ok"
    assert body["cli"].startswith("ok")
    assert body["credentials"] == "ok: ANTHROPIC_API_KEY"
    assert body["status"] == "ok"


def test_long_histories_are_capped_with_a_link_to_the_rest(
    client: TestClient, project: Path
) -> None:
    from claudeserver.api.presenters import DETAIL_INTERACTIONS

    task_id = submit(client, project, "x")
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        for n in range(DETAIL_INTERACTIONS + 20):
            interactions.add_interaction(
                db, task_id=task_id, role="assistant", kind="text", content=str(n)
            )
    detail = client.get(f"/api/v1/tasks/{task_id}").json()
    assert len(detail["interactions"]) == DETAIL_INTERACTIONS
    assert detail["interactions_total"] == DETAIL_INTERACTIONS + 21  # + the "pending" event
    rest = client.get(detail["interactions_next"]).json()["items"]
    assert rest[0]["sequence"] == DETAIL_INTERACTIONS + 1


def test_lists_give_each_task_its_own_test_summary(client: TestClient, project: Path) -> None:
    from claudeserver.domain.testrun import TestResult

    session = client.post("/api/v1/sessions", json={"project_path": str(project)}).json()
    ids = [
        client.post("/api/v1/tasks", json={"session_id": session["id"], "description": d}).json()[
            "id"
        ]
        for d in ("one", "two", "three")
    ]
    outcomes = {ids[0]: ["passed", "failed"], ids[1]: ["passed", "skipped", "error"]}
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        for task_id, statuses in outcomes.items():
            results = [TestResult(f"t{n}", None, s, None, 0.1) for n, s in enumerate(statuses)]
            testcases.save_test_cases(db, task_id=task_id, test_type="generated", results=results)
    expected = {
        ids[0]: {**NO_TESTS, "total": 2, "passed": 1, "failed": 1},
        ids[1]: {**NO_TESTS, "total": 3, "passed": 2, "failed": 1},
        ids[2]: NO_TESTS,
    }
    for listing in (
        client.get("/api/v1/tasks").json()["items"],
        client.get(f"/api/v1/sessions/{session['id']}/tasks").json(),
    ):
        assert {t["id"]: t["test_summary"] for t in listing} == expected


def test_test_cases_carry_their_verdict_and_the_summary_counts_them(
    client: TestClient, project: Path
) -> None:
    from claudeserver.domain.testrun import TestResult

    task_id = submit(client, project, "judge")
    now = {
        "broken": "failed",
        "old": "failed",
        "mended": "passed",
        "shaky": "passed",
        "same": "passed",
    }
    before = {
        "broken": "passed",
        "old": "error",
        "mended": "failed",
        "shaky": "passed",
        "same": "passed",
    }
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        results = [TestResult(name, None, status, None, 0.1) for name, status in now.items()]
        testcases.save_test_cases(
            db, task_id=task_id, test_type="regression", results=results,
            baseline_status=before, flaky={"shaky"},
        )  # fmt: skip
        generated = [TestResult("mine", None, "passed", None, 0.1)]
        testcases.save_test_cases(db, task_id=task_id, test_type="generated", results=generated)
    detail = client.get(f"/api/v1/tasks/{task_id}").json()
    verdicts = {
        c["name"]: (c["baseline_status"], c["flaky"], c["verdict"]) for c in detail["test_cases"]
    }
    assert verdicts == {
        "broken": ("passed", False, "regression"),
        "old": ("error", False, "pre_existing"),
        "mended": ("failed", False, "fixed"),
        "shaky": ("passed", True, "flaky"),
        "same": ("passed", False, "ok"),
        "mine": (None, False, "new"),
    }
    assert detail["test_summary"] == {
        **NO_TESTS, "total": 6, "passed": 4, "failed": 2, "pre_existing": 1, "fixed": 1, "flaky": 1,
    }  # fmt: skip
    assert detail["baseline_duration"] is None and detail["round_durations"] is None


def test_a_test_reported_twice_keeps_one_row(client: TestClient, project: Path) -> None:
    """The database refuses duplicate ids per task and type; saving merges them, and a very
    long id (PostgreSQL indexes at most ~2.7 kB) is stored shortened but still unique."""
    from claudeserver.domain.testrun import TestResult

    session = client.post("/api/v1/sessions", json={"project_path": str(project)}).json()
    task_id = client.post(
        "/api/v1/tasks", json={"session_id": session["id"], "description": "twice"}
    ).json()["id"]
    long_a, long_b = "t::test[" + "a" * 5000 + "]", "t::test[" + "a" * 4999 + "b]"
    results = [
        TestResult(name, None, status, None, None)
        for name, status in [
            ("t::x", "passed"),
            ("t::x", "failed"),
            (long_a, "passed"),
            (long_b, "passed"),
        ]
    ]
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        for _ in range(2):
            testcases.save_test_cases(db, task_id=task_id, test_type="regression", results=results)
            testcases.drop_test_cases(
                db, task_id=task_id, test_type="regression", keep={r.name for r in results}
            )
    cases = client.get(f"/api/v1/tasks/{task_id}").json()["test_cases"]
    assert len(cases) == 3
    assert {c["status"] for c in cases if c["name"] == "t::x"} == {"failed"}
    assert all(len(c["name"]) <= testcases.MAX_TEST_NAME_CHARS for c in cases)
