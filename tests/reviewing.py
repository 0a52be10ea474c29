"""A finished task with a diff to review, made without an agent: a git project, a task's
worktree changed by hand, the task marked completed. Shared by the comment tests."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.domain.workspace import Workspace, create_worktree
from claudeserver.persistence import tasks

HALF = "\n\ndef half(x):\n    return x / 2\n"
BASE = (
    "def add(a, b):\n    return a - b\n\n\ndef double(x):\n    # twice\n    return x * 2\n" + HALF
)
# add() fixed (line 2) and the "# twice" line (old line 6) removed: 10 lines.
CHANGED = "def add(a, b):\n    return a + b\n\n\ndef double(x):\n    return x * 2\n" + HALF


def git(repo_dir: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo_dir), "-c", "user.name=u", "-c", "user.email=u@x", *args],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip


def make_repo(project: Path) -> Path:
    """`project` as a git repository on main whose one commit has mathutil.py = BASE."""
    (project / "mathutil.py").write_text(BASE)
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "base")
    return project


def finished_task(
    http: Any, factory: sessionmaker[DB], project: Path, workspaces: Path
) -> tuple[str, Workspace]:
    """A completed task of a new session (through `http`, a test or httpx client) whose
    worktree holds CHANGED."""
    session = http.post("/api/v1/sessions", json={"project_path": str(project)}).json()
    task_id = http.post(
        "/api/v1/tasks", json={"session_id": session["id"], "description": "Fix add"}
    ).json()["id"]
    ws = create_worktree(project, task_id=task_id, base_branch="main", root=workspaces)
    (ws.path / "mathutil.py").write_text(CHANGED)
    with factory() as db:
        tasks.update_task(db, task_id=task_id, workspace=ws.to_json(), status="completed")
    return str(task_id), ws
