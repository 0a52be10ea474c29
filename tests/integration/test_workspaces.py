"""Every task in its own worktree: parallel tasks, diffs, merges, conflicts, cleanup."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from claudeserver.api.app import create_app
from claudeserver.persistence.models import ClaudeInteraction, TestCase, TranscriptEntry
from claudeserver.settings import Settings
from claudeserver.testing import FakeAnthropic, Rule, ScriptedModel
from claudeserver.testing.fake_anthropic import Model
from claudeserver.testing.request import ModelRequest
from claudeserver.testing.script import Reply, ToolUse, write
from tests.conftest import wait_for
from tests.models import CONFTEST, FIXED, TESTS, adds_sub, calculator

pytestmark = pytest.mark.agent

FakeFactory = Callable[[Model], FakeAnthropic]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repo(project: Path) -> Path:
    git(project, "init", "-q", "-b", "main")
    git(project, "-c", "user.name=u", "-c", "user.email=u@x", "add", "-A")
    git(project, "-c", "user.name=u", "-c", "user.email=u@x", "commit", "-qm", "initial")
    (project / "scratch.txt").write_text("the user's uncommitted work\n")  # a dirty checkout
    return project


def by_task(implementations: dict[str, str]) -> ScriptedModel:
    """Each task (named in its description) writes its own add() implementation."""

    def implement(request: ModelRequest) -> Reply:
        for marker, body in implementations.items():
            if marker in request.conversation_text:
                path = f"{request.cwd}/mathutil.py"
                return Reply([ToolUse("Write", {"file_path": path, "content": body})])
        raise AssertionError("unknown task")

    return ScriptedModel(
        [
            Rule("## Task", [implement], done="Implemented."),
            Rule(
                "write tests",
                [write("tests/conftest.py", CONFTEST), write("tests/test_mathutil.py", TESTS)],
                done="Tests written.",
            ),
        ]
    )


def _session(api: TestClient, path: Path, **extra: object) -> dict[str, object]:
    response = api.post("/api/v1/sessions", json={"project_path": str(path), **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _task(api: TestClient, session_id: object, description: str) -> str:
    response = api.post(
        "/api/v1/tasks", json={"session_id": session_id, "description": description}
    )
    return str(response.json()["id"])


def test_parallel_tasks_diff_merge_conflict_and_cleanup(
    api: TestClient, repo: Path, fake_model: FakeFactory
) -> None:
    fake_model(
        by_task(
            {
                "variant A": "def add(a, b):\n    return a + b\n",
                "variant B": "def add(a, b):\n    return sum((a, b))\n",
            }
        )
    )
    session = _session(api, repo)
    assert (session["isolation"], session["base_branch"]) == ("worktree", "main")
    first, second = _task(api, session["id"], "variant A"), _task(api, session["id"], "variant B")
    a, b = wait_for(api, first), wait_for(api, second)

    assert (a["status"], b["status"]) == ("completed", "completed"), (a["summary"], b["summary"])
    assert b["started_at"] < a["completed_at"]  # they ran side by side
    assert {a["workspace"]["branch"], b["workspace"]["branch"]} == {
        f"claudeserver/{first[:8]}",
        f"claudeserver/{second[:8]}",
    }
    # The user's checkout is untouched: same branch, no new files, dirty file kept.
    assert git(repo, "branch", "--show-current") == "main"
    assert not (repo / "mathutil.py").exists()
    assert (repo / "scratch.txt").read_text() == "the user's uncommitted work\n"

    stat = api.get(f"/api/v1/tasks/{first}/diff", params={"format": "stat"}).json()
    assert sorted(f["path"] for f in stat["files"]) == [
        "mathutil.py",
        "tests/conftest.py",
        "tests/test_mathutil.py",
    ]
    patch = api.get(f"/api/v1/tasks/{first}/diff")
    assert patch.headers["content-type"].startswith("text/x-diff")
    assert "+    return a + b" in patch.text

    merged = api.post(f"/api/v1/tasks/{first}/merge")
    assert merged.status_code == 200, merged.text
    assert merged.json()["fast_forward"] is True
    assert git(repo, "show", "main:mathutil.py") == "def add(a, b):\n    return a + b"

    main_before = git(repo, "rev-parse", "main")
    conflict = api.post(f"/api/v1/tasks/{second}/merge")
    assert conflict.status_code == 409
    assert "mathutil.py" in conflict.json()["files"]
    assert git(repo, "rev-parse", "main") == main_before
    assert not (repo / ".git" / "MERGE_HEAD").exists()

    for task_id in (first, second):
        assert api.delete(f"/api/v1/tasks/{task_id}/workspace").status_code == 204
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert api.get(f"/api/v1/tasks/{first}/diff").status_code == 410


def test_deleting_tasks_and_sessions_removes_workspaces_and_every_record(
    api: TestClient, repo: Path, fake_model: FakeFactory
) -> None:
    fake_model(
        by_task(
            {
                "variant A": "def add(a, b):\n    return a + b\n",
                "variant B": "def add(a, b):\n    return b + a\n",
            }
        )
    )
    session = _session(api, repo)
    first, second = _task(api, session["id"], "variant A"), _task(api, session["id"], "variant B")
    a, b = wait_for(api, first), wait_for(api, second)
    assert (a["status"], b["status"]) == ("completed", "completed"), (a["summary"], b["summary"])
    assert _records(api, a) == {"interactions": True, "tests": True, "transcript": True}

    assert api.delete(f"/api/v1/tasks/{first}", params={"branch": "true"}).status_code == 204
    assert api.get(f"/api/v1/tasks/{first}").status_code == 404
    assert _records(api, a) == {"interactions": False, "tests": False, "transcript": False}
    assert not Path(a["workspace"]["path"]).exists()
    assert not git(repo, "branch", "--list", a["workspace"]["branch"])
    assert _records(api, b)["transcript"]  # only the deleted task's conversation went

    assert api.delete(f"/api/v1/sessions/{session['id']}").status_code == 204
    assert api.get(f"/api/v1/tasks/{second}").status_code == 404
    assert not Path(b["workspace"]["path"]).exists()
    assert git(repo, "branch", "--list", b["workspace"]["branch"])  # the work stays
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert (repo / "scratch.txt").exists()  # the user's checkout is untouched


def _records(api: TestClient, task: dict[str, Any]) -> dict[str, bool]:
    """Which kinds of rows the database still holds about `task`."""
    with cast(FastAPI, api.app).state.sessionmaker() as db:
        rows = {
            "interactions": select(ClaudeInteraction.id).where(
                ClaudeInteraction.task_id == task["id"]
            ),
            "tests": select(TestCase.id).where(TestCase.task_id == task["id"]),
            "transcript": select(TranscriptEntry.id).where(
                TranscriptEntry.session_id == task["claude_session_id"]
            ),
        }
        return {kind: db.execute(stmt.limit(1)).first() is not None for kind, stmt in rows.items()}


def test_follow_up_continues_a_completed_task_on_its_branch(
    api: TestClient, repo: Path, fake_model: FakeFactory
) -> None:
    fake = fake_model(calculator(first=FIXED))
    session = _session(api, repo)
    task_id = _task(api, session["id"], "Add an add(a, b) function")
    first = wait_for(api, task_id)
    assert first["status"] == "completed", first["summary"]
    branch = first["workspace"]["branch"]
    commits = int(git(repo, "rev-list", "--count", branch))

    fake.model = adds_sub()
    refused = api.post(f"/api/v1/tasks/{task_id}/follow-up", json={"content": "  "})
    assert refused.status_code == 422
    queued = api.post(f"/api/v1/tasks/{task_id}/follow-up", json={"content": "Also add sub(a, b)."})
    assert queued.status_code == 200, queued.text
    assert (queued.json()["status"], queued.json()["attempt"]) == ("pending", 2)
    task = wait_for(api, task_id)

    assert task["status"] == "completed", task["summary"]
    assert task["claude_session_id"] == first["claude_session_id"]  # the same conversation
    opening = fake.agent_requests()[-1].conversation_text
    assert "## Follow-up\nAlso add sub(a, b)." in opening
    assert "We are resuming" not in opening  # a new request, not a recovery
    follow_ups = [i for i in task["interactions"] if i["kind"] == "follow_up"]
    assert [(i["role"], i["content"]) for i in follow_ups] == [("user", "Also add sub(a, b).")]
    # The tests generated the first time are the project's own now; the new ones are sub's.
    kinds = {t["name"].rsplit("::", 1)[-1]: t["type"] for t in task["test_cases"]}
    assert kinds["test_small"] == "regression"
    assert kinds["test_difference"] == kinds["test_below_zero"] == "generated"
    assert "(2 generated, 4 regression)" in task["summary"]
    assert int(git(repo, "rev-list", "--count", branch)) == commits + 1
    assert "def sub" in git(repo, "show", f"{branch}:mathutil.py")

    again = api.post(f"/api/v1/tasks/{task_id}/retry")
    assert again.status_code == 409  # a completed task is followed up, not retried
    assert api.delete(f"/api/v1/tasks/{task_id}/workspace").status_code == 204
    gone = api.post(f"/api/v1/tasks/{task_id}/follow-up", json={"content": "More."})
    assert gone.status_code == 409 and "submit a new task" in gone.json()["detail"]


def test_finished_workspaces_are_removed_after_retention(
    settings: Settings, repo: Path, fake_model: FakeFactory
) -> None:
    settings.workspace_retention_hours = 0.5 / 3600  # half a second
    settings.workspace_cleanup_seconds = 0.2
    fake_model(by_task({"variant A": "def add(a, b):\n    return a + b\n"}))
    with TestClient(create_app(settings)) as api:
        session = _session(api, repo)
        task = wait_for(api, _task(api, session["id"], "variant A"))
        assert task["status"] == "completed"
        deadline = time.monotonic() + 10
        while api.get(f"/api/v1/tasks/{task['id']}").json()["workspace_removed_at"] is None:
            assert time.monotonic() < deadline, "the workspace was never cleaned up"
            time.sleep(0.1)
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert git(repo, "branch", "--list", task["workspace"]["branch"])  # the branch stays


def test_plain_folder_runs_in_place_with_a_snapshot_diff(
    api: TestClient, project: Path, fake_model: FakeFactory
) -> None:
    fake_model(by_task({"variant A": "def add(a, b):\n    return a + b\n"}))
    session = _session(api, project)
    assert session["isolation"] == "none"
    task = wait_for(api, _task(api, session["id"], "variant A"))
    assert task["status"] == "completed", task["summary"]
    assert (project / "mathutil.py").exists()
    stat = api.get(f"/api/v1/tasks/{task['id']}/diff", params={"format": "stat"}).json()
    assert "mathutil.py" in [f["path"] for f in stat["files"]]
    assert api.post(f"/api/v1/tasks/{task['id']}/merge").status_code == 409


def test_bad_isolation_requests_are_422(api: TestClient, project: Path, repo: Path) -> None:
    response = api.post("/api/v1/sessions", json={"project_path": str(repo), "base_branch": "nope"})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"][-1] == "base_branch" and "main" in error["msg"]
    git(repo, "checkout", "-q", "--detach")
    detached = api.post("/api/v1/sessions", json={"project_path": str(repo)})
    assert detached.status_code == 422
    assert detached.json()["detail"][0]["loc"][-1] == "base_branch"
    plain = api.post(
        "/api/v1/sessions", json={"project_path": str(project.parent), "isolation": "worktree"}
    )
    assert plain.status_code == 422


def test_review_pass_stores_findings_and_cannot_write(
    api: TestClient, repo: Path, fake_model: FakeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    findings = (
        '[{"severity": "warning", "file": "mathutil.py", "line": 2, '
        '"comment": "add() accepts strings too."}]'
    )
    model = by_task({"variant A": "def add(a, b):\n    return a + b\n"})
    home = repo.parent / "home"
    monkeypatch.setenv("HOME", str(home))
    secret = home / ".config" / "gh" / "hosts.yml"
    secret.parent.mkdir(parents=True)
    secret.write_text("oauth_token: reviewer-must-not-see")
    reviewer = Rule(
        "Review this change",
        [
            Reply([ToolUse("Read", {"file_path": str(secret)})]),
            write("mathutil.py", "# the reviewer must not write\n"),
        ],
        done=f"My findings:\n{findings}",
    )
    model.rules = [*model.rules, reviewer]
    fake = fake_model(model)
    session = _session(api, repo, review=True)
    task = wait_for(api, _task(api, session["id"], "variant A"))

    assert task["status"] == "completed", task["summary"]
    assert task["review_findings"] == [
        {"severity": "warning", "file": "mathutil.py", "line": 2,
         "comment": "add() accepts strings too."}
    ]  # fmt: skip
    review_request = next(
        r for r in fake.agent_requests() if "Review this change" in r.conversation_text
    )
    assert "+    return a + b" in review_request.conversation_text  # the diff was shown
    # The task's conversation stays the main one (a follow-up resumes it), not the reviewer's.
    inits = [i["data"]["session_id"] for i in task["interactions"] if i["kind"] == "init"]
    assert len(set(inits)) == 2 and task["claude_session_id"] == inits[0]
    # It reads only what the policy lets the agent read.
    assert not any("reviewer-must-not-see" in i["content"] for i in task["interactions"])
    denied = [i for i in task["interactions"] if i["kind"] == "tool_error"]
    assert any("hosts.yml" in i["content"] for i in denied), denied
    # The reviewer's write was refused: the committed file is the implementation.
    assert git(repo, "show", f"{task['workspace']['branch']}:mathutil.py").endswith("a + b")


def test_repo_url_session_pushes_the_task_branch_back(
    api: TestClient, repo: Path, tmp_path: Path, fake_model: FakeFactory
) -> None:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(origin)], check=True)
    fake_model(by_task({"variant A": "def add(a, b):\n    return a + b\n"}))
    session = _session_from_url(api, f"file://{origin}")
    assert (session["isolation"], session["base_branch"]) == ("worktree", "main")
    task = wait_for(api, _task(api, session["id"], "variant A"))

    assert task["status"] == "completed", task["summary"]
    branch = task["workspace"]["branch"]
    assert git(origin, "show", f"{branch}:mathutil.py").endswith("a + b")
    assert git(origin, "rev-parse", "main") == git(repo, "rev-parse", "main")  # base untouched
    stat = api.get(f"/api/v1/tasks/{task['id']}/diff", params={"format": "stat"}).json()
    assert "mathutil.py" in [f["path"] for f in stat["files"]]


def _session_from_url(api: TestClient, url: str) -> dict[str, object]:
    response = api.post("/api/v1/sessions", json={"repo_url": url})
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.parametrize(
    "body",
    [
        {"repo_url": "--upload-pack=touch /tmp/pwned"},
        {"repo_url": "file:///does/not/exist.git"},
        {},
    ],
)
def test_bad_repo_url_requests_are_422(api: TestClient, body: dict[str, str]) -> None:
    response = api.post("/api/v1/sessions", json=body)
    assert response.status_code == 422, response.text
