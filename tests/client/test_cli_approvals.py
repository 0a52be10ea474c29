"""`claudeserver approvals`, `approve` and `deny` against a live server."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from claudeserver.persistence.db import make_engine, make_sessionmaker
from claudeserver.settings import Settings
from tests.client.conftest import Run
from tests.unit.test_approvals import held_call


def test_held_calls_are_listed_and_answered(
    cli: Run, server: str, settings: Settings, project: Path
) -> None:
    db = make_sessionmaker(make_engine(settings.database_url))
    first, second = held_call(db, project), held_call(db, project)

    code, out, _ = cli("approvals", "--server", server)
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["ID", "STATUS", "UNANSWERED", "CREATED", "CALL"]
    assert {row.split()[0] for row in rows} == {first, second}
    assert all(row.split()[1:3] == ["pending", "allow"] for row in rows)
    assert all(row.endswith("Bash: make deploy") for row in rows)

    code, out, _ = cli("approve", first, "--remember", "--reason", "ok", "--server", server)
    assert (code, out) == (0, f"approval {first} allowed; remembered: Bash(make deploy)\n")
    code, out, _ = cli("deny", second, "--server", server)
    assert (code, out) == (0, f"approval {second} denied\n")
    code, _, err = cli("deny", first, "--server", server)
    assert code == 1
    assert (
        err
        == f"claudeserver: cannot deny: approval {first} was already answered: allowed by user\n"
    )

    assert cli("approvals", "--server", server)[1].splitlines()[1:] == []
    code, out, _ = cli("approvals", "--status", "all", "--json", "--server", server)
    assert sorted((a["id"], a["status"]) for a in json.loads(out)) == sorted(
        [(first, "allowed"), (second, "denied")]
    )
    task = next(a["task_id"] for a in json.loads(out) if a["id"] == first)
    code, out, _ = cli("approvals", "--task", task, "--status", "all", "--server", server)
    assert [row.split()[:2] for row in out.splitlines()[1:]] == [[first, "allowed"]]


def test_a_task_submitted_for_a_person_to_approve(cli: Run, server: str, project: Path) -> None:
    submitted = cli("submit", str(project), "Deploy it", "--approvals", "human", "--server", server)
    code, out, _ = submitted
    assert code == 0, submitted
    code, out, _ = cli("show", out.strip(), "--json", "--server", server)
    assert json.loads(out)["approvals"] == "human"


def test_following_a_task_says_how_to_answer_its_held_call(
    cli: Run, server: str, settings: Settings, project: Path
) -> None:
    approval = held_call(make_sessionmaker(make_engine(settings.database_url)), project)
    task = httpx.get(f"{server}/api/v1/approvals/{approval}").json()["task_id"]
    httpx.post(f"{server}/api/v1/tasks/{task}/cancel").raise_for_status()  # so the stream ends

    code, out, _ = cli("logs", task, "--follow", "--server", server)
    assert code == 0
    lines = out.splitlines()
    waiting = next(n for n, line in enumerate(lines) if "WAITING" in line)
    assert lines[waiting + 1].split() == [
        "answer",
        "claudeserver",
        "approve",
        approval,
        "(or",
        "deny)",
    ]
