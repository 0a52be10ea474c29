"""Review comments through the API, without an agent: a finished task's worktree is made
and changed by the test, and a round's changes are played by editing it again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from claudeserver.api.app import create_app
from claudeserver.domain import comments
from claudeserver.domain.workspace import Workspace
from claudeserver.persistence import tasks
from claudeserver.settings import Settings
from tests import reviewing
from tests.reviewing import BASE, make_repo


@pytest.fixture
def client(settings: Settings, database_url: str) -> Iterator[TestClient]:
    settings.database_url = database_url  # no worker: a sent round stays queued
    with TestClient(create_app(settings, run_worker=False)) as c:
        yield c


@pytest.fixture
def git_repo(project: Path) -> Path:
    return make_repo(project)


def finished_task(client: TestClient, git_repo: Path, settings: Settings) -> tuple[str, Workspace]:
    factory = client.app.state.sessionmaker  # type: ignore[attr-defined]
    return reviewing.finished_task(client, factory, git_repo, settings.workspaces_dir)


def comment(client: TestClient, task_id: str, **body: Any) -> Any:
    return client.post(f"/api/v1/tasks/{task_id}/comments", json=body)


def timeline(client: TestClient, task_id: str) -> list[dict[str, Any]]:
    items = client.get(f"/api/v1/tasks/{task_id}/interactions").json()["items"]
    return [i for i in items if i["kind"] == "comment"]


def test_comments_are_made_listed_edited_resolved_and_deleted(
    client: TestClient, git_repo: Path, settings: Settings
) -> None:
    task_id, _ = finished_task(client, git_repo, settings)
    made = comment(client, task_id, file="mathutil.py", line=2, body="Check the types too.")
    assert made.status_code == 201, made.text
    body = made.json()
    assert {k: body[k] for k in ("file", "line", "side", "source", "resolved", "addressed")} == {
        "file": "mathutil.py", "line": 2, "side": "new", "source": "user", "resolved": False,
        "addressed": False,
    }  # fmt: skip
    assert (body["in_round"], body["sent_attempt"], body["sent_at"]) == (False, None, None)
    removed = comment(client, task_id, file="mathutil.py", line=6, side="old", body="Keep it.")
    assert removed.status_code == 201, removed.text
    path = f"/api/v1/tasks/{task_id}/comments"
    assert [c["id"] for c in client.get(path).json()] == [body["id"], removed.json()["id"]]

    edited = client.patch(f"{path}/{body['id']}", json={"body": "Check types."})
    assert edited.status_code == 200 and edited.json()["body"] == "Check types."
    resolved = client.patch(f"{path}/{body['id']}", json={"resolved": True})
    assert resolved.json()["resolved"] is True
    assert client.delete(f"{path}/{removed.json()['id']}").status_code == 204
    assert [c["id"] for c in client.get(path).json()] == [body["id"]]

    entries = timeline(client, task_id)
    assert [(e["role"], e["data"]["action"]) for e in entries] == [
        ("user", "added"), ("user", "added"), ("user", "edited"), ("user", "resolved"),
        ("user", "deleted"),
    ]  # fmt: skip
    assert entries[0]["content"] == "comment added on mathutil.py:2: Check the types too."
    assert entries[1]["content"].startswith("comment added on mathutil.py:-6: ")

    # Unknown tasks and comments, and another task's comment, are 404.
    other, _ = finished_task(client, git_repo, settings)
    for method, url in [
        ("get", "/api/v1/tasks/nope/comments"),
        ("post", "/api/v1/tasks/nope/comments"),
        ("post", "/api/v1/tasks/nope/comments/send"),
        ("patch", f"{path}/nope"),
        ("delete", f"{path}/nope"),
        ("patch", f"/api/v1/tasks/{other}/comments/{body['id']}"),
    ]:
        json = {"resolved": True} if method == "patch" else None
        if method == "post" and url.endswith("comments"):
            json = {"file": "mathutil.py", "line": 1, "body": "x"}
        response = client.request(method, url, json=json)
        assert response.status_code == 404, (method, url, response.text)


def test_a_comment_must_be_on_a_line_of_the_diff_and_say_something(
    client: TestClient, git_repo: Path, settings: Settings
) -> None:
    task_id, _ = finished_task(client, git_repo, settings)

    def refused(body: dict[str, Any]) -> tuple[str, str]:
        response = comment(client, task_id, **body)
        assert response.status_code == 422, response.text
        error = response.json()["detail"][0]
        return error["loc"][-1], error["msg"]

    assert refused({"file": "README.md", "line": 1, "body": "x"}) == (
        "file", "README.md is not a file the task changed; its diff has: mathutil.py"
    )  # fmt: skip
    field, message = refused({"file": "mathutil.py", "line": 11, "body": "x"})
    assert field == "line" and "mathutil.py has 10 lines now; give 1 to 10" in message
    field, message = refused({"file": "mathutil.py", "line": 40, "side": "old", "body": "x"})
    assert field == "line" and "old lines 1-9" in message
    assert refused({"file": "mathutil.py", "line": 1, "body": "  "})[0] == "body"
    assert refused({"file": "mathutil.py", "line": 0, "body": "x"})[0] == "line"
    assert refused({"file": "mathutil.py", "line": 1, "side": "left", "body": "x"})[0] == "side"
    assert "missing body" in refused({"file": "mathutil.py", "line": 1})[1]
    assert "not both" in refused({"from_finding": 0, "file": "mathutil.py"})[1]
    made = comment(client, task_id, file="mathutil.py", line=1, body="ok").json()
    nothing = client.patch(f"/api/v1/tasks/{task_id}/comments/{made['id']}", json={})
    assert nothing.status_code == 422

    # A task without a workspace yet has no diff to comment on.
    session_id = client.get(f"/api/v1/tasks/{task_id}").json()["session_id"]
    queued = client.post("/api/v1/tasks", json={"session_id": session_id, "description": "y"})
    early = comment(client, queued.json()["id"], file="mathutil.py", line=1, body="x")
    assert early.status_code == 409 and "no workspace yet" in early.json()["detail"]


def test_review_findings_become_comments_in_one_call(
    client: TestClient, git_repo: Path, settings: Settings
) -> None:
    task_id, _ = finished_task(client, git_repo, settings)
    assert comment(client, task_id, from_finding=0).status_code == 422  # no review yet
    findings = [
        {"severity": "warning", "file": "mathutil.py", "line": 2, "comment": "Strings too."},
        {"severity": "info", "file": None, "line": None, "comment": "Nice."},
        {"severity": "error", "file": "mathutil.py", "line": 99, "comment": "Past the end."},
    ]
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        tasks.update_task(db, task_id=task_id, review_findings=findings)

    made = comment(client, task_id, from_finding=0)
    assert made.status_code == 201, made.text
    assert {k: made.json()[k] for k in ("file", "line", "side", "body", "source")} == {
        "file": "mathutil.py", "line": 2, "side": "new", "body": "Strings too.",
        "source": "review",
    }  # fmt: skip
    for index, message in [
        (1, "finding 1 names no file and line"),
        (2, "finding 2: mathutil.py has 10 lines now"),
        (3, "has 3 review findings: give 0 to 2"),
    ]:
        refused = comment(client, task_id, from_finding=index)
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"][-1] == "from_finding"
        assert message in refused.json()["detail"][0]["msg"]


def test_a_round_sends_every_open_comment_and_marks_those_whose_lines_changed(
    client: TestClient, git_repo: Path, settings: Settings
) -> None:
    task_id, ws = finished_task(client, git_repo, settings)
    send = f"/api/v1/tasks/{task_id}/comments/send"
    nothing = client.post(send)
    assert nothing.status_code == 409 and "no unresolved comments" in nothing.json()["detail"]

    on_add = comment(client, task_id, file="mathutil.py", line=2, body="Use `sum`.").json()
    on_half = comment(client, task_id, file="mathutil.py", line=10, body="Name it.").json()
    on_removed = comment(
        client, task_id, file="mathutil.py", line=6, side="old", body="Keep this comment."
    ).json()
    done = comment(client, task_id, file="mathutil.py", line=1, body="Fine.").json()
    client.patch(f"/api/v1/tasks/{task_id}/comments/{done['id']}", json={"resolved": True})
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        tasks.update_task(db, task_id=task_id, status="running")
    busy = client.post(send)
    assert busy.status_code == 409 and "once it has finished" in busy.json()["detail"]
    with client.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        tasks.update_task(db, task_id=task_id, status="completed")

    forged = client.post(send, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403  # another site's page cannot send them
    queued = client.post(send)
    assert queued.status_code == 200, queued.text
    assert (queued.json()["status"], queued.json()["attempt"]) == ("pending", 2)
    items = client.get(f"/api/v1/tasks/{task_id}/interactions").json()["items"]
    request = next(i for i in items if i["kind"] == "follow_up")
    assert request["role"] == "user"
    prompt = request["content"]
    assert prompt.startswith("The user reviewed your change and left 3 comments on its diff.")
    assert "### Comment 1: mathutil.py, line 2\n\n```\n  1 | def add(a, b):\n> 2 |     return " in (
        prompt
    )
    assert "> Use `sum`." in prompt and "Fine." not in prompt  # resolved: not sent
    assert "### Comment 3: mathutil.py, line 6 of the file before your change (removed)" in prompt
    assert "```diff\n" in prompt and "-    # twice\n" in prompt
    sent = {c["id"]: c for c in client.get(f"/api/v1/tasks/{task_id}/comments").json()}
    assert all(sent[c["id"]]["in_round"] for c in (on_add, on_half, on_removed))
    assert sent[on_add["id"]]["sent_attempt"] == 2 and not sent[done["id"]]["in_round"]
    assert [e["data"]["action"] for e in timeline(client, task_id)][-1] == "sent"
    again = client.post(send)
    assert again.status_code == 409  # the round is queued: the task has not finished

    # The round: add() rewritten and the removed comment back, which moves half() down.
    (ws.path / "mathutil.py").write_text(BASE.replace("a - b", "sum((a, b))"))
    comments.settle(
        client.app.state.sessionmaker,  # type: ignore[attr-defined]
        task_id=task_id, workspace=ws,
    )  # fmt: skip

    after = {c["id"]: c for c in client.get(f"/api/v1/tasks/{task_id}/comments").json()}
    assert (after[on_add["id"]]["addressed"], after[on_add["id"]]["resolved"]) == (True, True)
    assert (after[on_removed["id"]]["addressed"], after[on_removed["id"]]["resolved"]) == (
        True, True,
    )  # fmt: skip
    untouched = after[on_half["id"]]
    assert (untouched["addressed"], untouched["resolved"], untouched["in_round"]) == (
        False, False, False,
    )  # fmt: skip
    assert untouched["line"] == 11  # where its line is now
    summary = timeline(client, task_id)[-1]
    assert summary["role"] == "system" and summary["data"]["open"] == [on_half["id"]]
    assert summary["content"] == (
        "The agent changed the lines of 2 of 3 comments (addressed: mathutil.py:2, "
        "mathutil.py:-6); still open, for you to resolve: mathutil.py:11."
    )
