"""The client commands against a live server running the real agent CLI on a fake model."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from tests.client.conftest import Run
from tests.models import BUGGY, FIXED, adds_sub, calculator


@pytest.mark.agent
def test_submit_follow_reports_a_completed_task(
    cli: Run, server: str, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    fake_model(calculator(first=FIXED))
    code, out, err = cli("submit", str(project), "Add an add(a, b) function", "--follow",
                         "--server", server)  # fmt: skip

    assert code == 0, out + err
    assert "status     running" in out
    assert "tool call  Write:" in out and "mathutil.py" in out
    assert "tests      4 passed, 0 failed" in out
    assert "task " in out and " completed" in out
    assert "tests: 4 total, 4 passed, 0 failed" in out

    # A second task for the same directory reuses its session.
    code, out, _ = cli("tasks", "--json", "--server", server)
    assert code == 0
    listed = json.loads(out)
    assert [t["status"] for t in listed] == ["completed"]
    code, _, _ = cli("submit", str(project), "Another thing", "--server", server)
    code, out, _ = cli("tasks", "--json", "--server", server)
    assert len({t["session_id"] for t in json.loads(out)}) == 1

    code, out, _ = cli("show", listed[0]["id"], "--server", server)
    assert code == 0 and "passed   generated" in out and "cost        $" in out
    code, out, _ = cli("logs", listed[0]["id"], "--json", "--server", server)
    assert code == 0 and all(json.loads(line)["sequence"] for line in out.splitlines())

    code, out, _ = cli("delete", listed[0]["id"], "--server", server)
    assert (code, out.strip()) == (0, f"task {listed[0]['id']} deleted (its branch stays)")
    code, _, err = cli("show", listed[0]["id"], "--server", server)
    assert code == 1 and "404" in err


@pytest.mark.agent
def test_follow_up_continues_a_finished_task_and_shows_only_the_new_round(
    cli: Run, server: str, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    fake = fake_model(calculator(first=FIXED))
    code, out, err = cli("submit", str(project), "Add an add(a, b) function", "--follow",
                         "--server", server)  # fmt: skip
    assert code == 0, out + err
    task_id = out.split("submitted task ", 1)[1].split()[0]

    fake.model = adds_sub()
    code, out, err = cli("follow-up", task_id, "Also add sub(a, b).", "--follow",
                         "--server", server)  # fmt: skip
    assert code == 0, out + err
    writes = [line for line in out.splitlines() if "tool call  Write:" in line]
    assert any("mathutil.py" in w for w in writes) and any("test_sub.py" in w for w in writes)
    assert not any("conftest.py" in w for w in writes)  # the first round is not shown again
    assert "tests: 6 total, 6 passed, 0 failed" in out

    code, out, _ = cli("logs", task_id, "--server", server)
    assert any(line.split()[1:3] == ["follow-up", "Also"] for line in out.splitlines()), (
        out
    )  # the request stands out in the history

    code, _, err = cli("follow-up", task_id, "   ", "--server", server)
    assert code == 1 and "content" in err


@pytest.mark.agent
def test_submit_follow_fails_with_the_failing_tests_named(
    cli: Run, server: str, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    fake_model(calculator(fix=BUGGY))
    code, out, err = cli("submit", str(project), "Add an add(a, b) function", "--follow",
                         "--max-iterations", "2", "--server", server)  # fmt: skip

    assert code == 1, out + err
    assert " failed" in out
    failing = out.split("failing tests:\n", 1)[1]
    assert "tests/test_mathutil.py::test_small" in failing
    assert "tests/test_mathutil.py::test_negative" in failing
    assert "test_zero" not in failing  # 0 - 0 == 0 + 0: it passes


def test_cancel_of_a_finished_or_unknown_task_is_a_clear_error(cli: Run, server: str) -> None:
    code, _, err = cli("cancel", "no-such-task", "--server", server)
    assert code == 1
    assert err.strip() == "claudeserver: 404: task no-such-task not found"


def test_delete_of_an_unknown_task_is_a_clear_error(cli: Run, server: str) -> None:
    code, _, err = cli("delete", "no-such-task", "--server", server)
    assert code == 1
    assert err.strip() == "claudeserver: 404: task no-such-task not found"


def test_sessions_are_listed_and_deleted(cli: Run, server: str, project: Path) -> None:
    created = httpx.post(f"{server}/api/v1/sessions", json={"project_path": str(project)})
    session_id = created.json()["id"]
    code, out, _ = cli("sessions", "--server", server)
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["ID", "ISOLATION", "CREATED", "PROJECT"]
    assert row.startswith(session_id) and row.endswith(str(project))
    code, out, _ = cli("sessions", "--json", "--server", server)
    assert [s["id"] for s in json.loads(out)] == [session_id]

    code, out, _ = cli("delete-session", session_id, "--server", server)
    assert (code, out.strip()) == (
        0,
        f"session {session_id} deleted with its tasks (their branches stay)",
    )
    code, _, err = cli("delete-session", session_id, "--server", server)
    assert code == 1 and err.strip() == f"claudeserver: 404: session {session_id} not found"


def test_tasks_json_parses_when_empty(cli: Run, server: str) -> None:
    code, out, _ = cli("tasks", "--json", "--server", server)
    assert code == 0 and json.loads(out) == []


def test_unreachable_server_exits_3_with_a_hint(cli: Run) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    code, out, err = cli("tasks", "--server", url)
    assert code == 3 and out == ""
    assert err.strip() == (
        f"claudeserver: cannot reach claudeserver at {url}: is it running? "
        "start it with `claudeserver serve`"
    )


def test_server_env_var_is_the_default(
    cli: Run, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDESERVER_URL", server)
    code, out, _ = cli("tasks")
    assert code == 0 and out.startswith("ID")
