"""`claudeserver comment`, `comments` and `send-comments` against a live server (no agent:
the round they queue is not run)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from fastapi import FastAPI

from claudeserver.settings import Settings
from tests.client.conftest import Run
from tests.reviewing import finished_task, make_repo


def test_comment_list_and_send_from_the_command_line(
    cli: Run, idle_server: str, idle_app: FastAPI, project: Path, settings: Settings
) -> None:
    with httpx.Client(base_url=idle_server) as http:
        task_id, _ = finished_task(
            http, idle_app.state.sessionmaker, make_repo(project), settings.workspaces_dir
        )

    code, out, err = cli("comment", task_id, "mathutil.py:2", "Use sum().", "--server", idle_server)
    assert code == 0, err
    assert out.startswith("comment ") and out.strip().endswith(" on mathutil.py:2")
    code, out, _ = cli(
        "comment", task_id, "mathutil.py:6", "Keep it.", "--old", "--server", idle_server
    )
    assert code == 0 and "mathutil.py:6 (before the task)" in out
    code, _, err = cli("comment", task_id, "mathutil.py:99", "x", "--server", idle_server)
    assert code == 1 and "line: mathutil.py has 10 lines now" in err
    code, _, err = cli("comment", task_id, "mathutil.py", "x", "--server", idle_server)
    assert code == 2 and "give FILE:LINE, such as src/app.py:42" in err

    code, out, _ = cli("comments", task_id, "--server", idle_server)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert "  open       mathutil.py:2  Use sum()." in lines[0]

    code, out, _ = cli("send-comments", task_id, "--server", idle_server)
    assert (code, out.strip()) == (0, f"comments sent: task {task_id} queued again (attempt 2)")
    code, out, _ = cli("comments", task_id, "--json", "--server", idle_server)
    assert [c["in_round"] for c in json.loads(out)] == [True, True]
    code, _, err = cli("send-comments", task_id, "--server", idle_server)
    assert code == 1 and "cannot send the comments: task" in err and "is pending" in err
