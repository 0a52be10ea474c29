"""Approvals without the CLI: the answer's state machine through the API, cancelling and
requeueing a task that waits, and the task loop's asks in `auto` and `human` mode (with
the scripted agent of test_task_loop). tests/integration/test_approvals.py runs a held
call on the real CLI."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from claudeserver.domain import lifecycle
from claudeserver.persistence import approvals as store
from claudeserver.persistence import interactions, sessions, tasks
from claudeserver.settings import Settings
from claudeserver.vocabulary import Kind, Role, TaskStatus
from tests.unit.test_task_loop import IMPLEMENT, WRITE_TESTS, Reply, ScriptedAgents, run_task

ASK_READS = {"ask_rules": ["Read(./app.py)"]}


def held_call(db: sessionmaker[Session], project: Path, *, rules: list[str] | None = None) -> str:
    """A task paused at a call held for approval; returns the approval's id."""
    with db() as s:
        session = sessions.create_session(
            s, project_path=str(project), isolation="none", base_branch=None, approvals="human"
        )
        task = tasks.create_task(s, session_id=session.id, description="Deploy it")
        for status in (TaskStatus.RUNNING, TaskStatus.PAUSED):
            assert tasks.transition(s, task_id=task.id, to=status)
        approval = store.create(
            s, task_id=task.id, session_id=session.id, tool="Bash",
            input_summary="make deploy", category="ask_rule",
            question="`make deploy` matches the ask rule `Bash(make deploy*)`",
            unattended="allow", rules=["Bash(make deploy)"] if rules is None else rules,
        )  # fmt: skip
        interactions.add_interaction(
            s, task_id=task.id, role=Role.PERMISSION, kind=Kind.APPROVAL_REQUEST,
            content=f"Waiting for approval: {approval.question}",
            data={"approval_id": approval.id, "tool": "Bash", "input": {"command": "make deploy"}},
        )  # fmt: skip
        return approval.id


def test_an_approval_is_answered_once(
    api: TestClient, db: sessionmaker[Session], project: Path
) -> None:
    approval_id = held_call(db, project)
    pending = api.get("/api/v1/approvals", params={"status": "pending"}).json()
    assert [a["id"] for a in pending] == [approval_id]
    assert pending[0]["expires_at"] is not None and pending[0]["unattended"] == "allow"
    task_id = pending[0]["task_id"]

    answer = {"decision": "allow", "reason": "staging only", "remember": True}
    answered = api.post(f"/api/v1/approvals/{approval_id}", json=answer)
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert (body["status"], body["decided_by"], body["reason"]) == (
        "allowed",
        "user",
        "staging only",
    )
    assert body["remember"] and body["decided_at"] and body["expires_at"] is None
    session = api.get(f"/api/v1/sessions/{body['session_id']}").json()
    assert session["policy"]["approved_rules"] == ["Bash(make deploy)"]
    assert session["approvals"] == "human"
    # Who answered, what and when: in the task's timeline (and so on its event streams).
    (entry,) = [
        i for i in api.get(f"/api/v1/tasks/{task_id}/interactions").json()["items"]
        if i["kind"] == "approval"
    ]  # fmt: skip
    assert (entry["role"], entry["data"]["approval_id"]) == ("user", approval_id)
    assert entry["content"] == ("Allowed by the user: staging only (remembered: Bash(make deploy))")

    again = api.post(f"/api/v1/approvals/{approval_id}", json={"decision": "deny"})
    assert again.status_code == 409
    assert again.json()["detail"] == f"approval {approval_id} was already answered: allowed by user"
    assert api.get("/api/v1/approvals", params={"status": "pending"}).json() == []
    listed = api.get(f"/api/v1/tasks/{task_id}/approvals").json()
    assert [(a["id"], a["status"]) for a in listed] == [(approval_id, "allowed")]


def test_bad_answers_and_unknown_ids(
    api: TestClient, db: sessionmaker[Session], project: Path
) -> None:
    assert api.post("/api/v1/approvals/nope", json={"decision": "allow"}).status_code == 404
    assert api.get("/api/v1/approvals/nope").json() == {"detail": "approval nope not found"}
    assert api.get("/api/v1/tasks/nope/approvals").status_code == 404
    approval_id = held_call(db, project, rules=[])
    for body in ({"decision": "maybe"}, {}, {"decision": "allow", "surprise": 1}):
        assert api.post(f"/api/v1/approvals/{approval_id}", json=body).status_code == 422
    assert api.get("/api/v1/approvals", params={"status": "maybe"}).status_code == 422
    # A call whose text held a secret has no rule to remember it by.
    remembered = api.post(
        f"/api/v1/approvals/{approval_id}", json={"decision": "deny", "remember": True}
    )
    assert remembered.status_code == 422
    assert "cannot be remembered" in remembered.json()["detail"][0]["msg"]
    denied = api.post(f"/api/v1/approvals/{approval_id}", json={"decision": "deny"})
    assert denied.json()["status"] == "denied"


def test_cancelling_or_requeueing_expires_what_waits(
    api: TestClient, db: sessionmaker[Session], project: Path
) -> None:
    first = held_call(db, project)
    task_id = api.get(f"/api/v1/approvals/{first}").json()["task_id"]
    assert api.post(f"/api/v1/tasks/{task_id}/cancel").json()["status"] == "cancelled"
    expired = api.get(f"/api/v1/approvals/{first}").json()
    assert (expired["status"], expired["reason"]) == ("expired", "the task was cancelled")
    assert api.post(f"/api/v1/approvals/{first}", json={"decision": "allow"}).status_code == 409

    second = held_call(db, project)
    with db() as s:
        task = tasks.get_task(s, task_id=api.get(f"/api/v1/approvals/{second}").json()["task_id"])
        assert task is not None and lifecycle.requeue(s, task, why="server restarted")
    assert api.get(f"/api/v1/approvals/{second}").json()["status"] == "expired"


def test_auto_answers_asks_as_the_policy_does(
    quick: Settings, db: sessionmaker[Session], project: Path
) -> None:
    agents = ScriptedAgents(IMPLEMENT, WRITE_TESTS, Reply("Fixed.", files={"app.py": "fixed"}))
    task, events = run_task(quick, db, project, agents, policy=ASK_READS)

    assert task.status == "completed", task.summary
    (read,) = [e for e in events if e.role == "permission"]
    assert read.kind == "allow" and "matches the ask rule `Read(./app.py)`" in read.data["ask"]
    assert "approval_id" not in read.data
    with db() as s:
        assert store.of_task(s, task_id=task.id) == []


def test_nobody_answers_so_the_simulated_human_does(
    quick: Settings, db: sessionmaker[Session], project: Path
) -> None:
    quick.approval_timeout_seconds = 1.2
    quick.idle_timeout_seconds = 0.5  # a held call is not the agent idling
    agents = ScriptedAgents(IMPLEMENT, WRITE_TESTS, Reply("Fixed.", files={"app.py": "fixed"}))
    task, events = run_task(quick, db, project, agents, policy=ASK_READS, approvals="human")

    assert task.status == "completed", task.summary
    with db() as s:
        (approval,) = store.of_task(s, task_id=task.id)
    assert (approval.status, approval.decided_by) == ("allowed", "simulated_human")
    request, answer = [e for e in events if e.kind in ("approval_request", "approval")]
    assert request.role == "permission"
    assert request.content == "Waiting for approval: Read(" + str(project.resolve() / "app.py") + (
        ") matches the ask rule `Read(./app.py)`"
    )
    assert answer.role == "human"
    assert answer.content == (
        "No answer within APPROVAL_TIMEOUT_SECONDS=1.2: the simulated human allowed it, as "
        "the policy does unattended"
    )
    paused = [e.data for e in events if e.kind == "status" and e.content == "paused"]
    assert paused[0]["progress"] == request.content
    statuses = [e.content for e in events if e.kind == "status"]
    assert statuses[statuses.index("paused") + 1] == "running"
    (decision,) = [e for e in events if e.role == "permission" and e.kind == "allow"]
    assert decision.data["decided_by"] == "simulated_human"
    assert decision.data["approval_id"] == approval.id


def test_a_task_may_ask_for_a_person_where_its_session_does_not(
    quick: Settings, db: sessionmaker[Session], project: Path, tmp_path: Path
) -> None:
    quick.approval_timeout_seconds = 0.3
    agents = ScriptedAgents(IMPLEMENT, WRITE_TESTS, Reply("Fixed.", files={"app.py": "fixed"}))
    held, _ = run_task(
        quick, db, project, agents, task_options={"approvals": "human"}, policy=ASK_READS
    )
    agents = ScriptedAgents(IMPLEMENT, WRITE_TESTS, Reply("Fixed.", files={"app.py": "fixed"}))
    other = tmp_path / "other"
    other.mkdir()
    unheld, _ = run_task(
        quick, db, other, agents, task_options={"approvals": "auto"}, policy=ASK_READS,
        approvals="human",
    )  # fmt: skip

    assert held.status == unheld.status == "completed"
    with db() as s:
        (approval,) = store.of_task(s, task_id=held.id)
        assert approval.decided_by == "simulated_human"
        assert store.of_task(s, task_id=unheld.id) == []


def test_cancelling_a_task_held_for_approval_ends_it_at_once(
    quick: Settings, db: sessionmaker[Session], project: Path
) -> None:
    quick.approval_timeout_seconds = 60

    def cancel_when_held() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with db() as s:
                held = store.listing(s, status="pending", session_id=None, limit=1)
                if held:
                    lifecycle.cancel(s, None, task_id=held[0].task_id, reason="not now")
                    return
            time.sleep(0.05)

    canceller = threading.Thread(target=cancel_when_held)
    canceller.start()
    started = time.monotonic()
    agents = ScriptedAgents(IMPLEMENT, WRITE_TESTS, Reply("Fixed.", files={"app.py": "fixed"}))
    task, events = run_task(quick, db, project, agents, policy=ASK_READS, approvals="human")
    canceller.join()

    assert task.status == "cancelled" and time.monotonic() - started < 20
    with db() as s:
        (approval,) = store.of_task(s, task_id=task.id)
    assert (approval.status, approval.reason) == ("expired", "the task was cancelled")
    assert [e.content for e in events if e.kind == "approval"] == [
        "Approval expired: the task was cancelled"
    ]
