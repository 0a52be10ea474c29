"""Scale-out: an API-only process and two worker processes share one PostgreSQL queue."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from claudeserver.domain.processes import task_pids
from tests.scaleout.cluster import Cluster, until

pytestmark = [pytest.mark.scaleout, pytest.mark.agent]

Projects = Callable[[int], list[Path]]


def _tool_calls(cluster: Cluster, task_id: str) -> int:
    return sum(1 for i in cluster.task(task_id)["interactions"] if i["kind"] == "tool_use")


def test_tasks_complete_spread_over_workers(cluster: Cluster, projects: Projects) -> None:
    folders = projects(6)
    task_ids = [cluster.submit(folder) for folder in folders]
    cluster.wait_ended(task_ids, timeout=90)

    tasks = [cluster.task(t) for t in task_ids]
    assert [t["status"] for t in tasks] == ["completed"] * 6, [t["summary"] for t in tasks]
    assert {cluster.worker_of(t).pid for t in tasks} == {w.pid for w in cluster.workers}
    assert all((f / "mathutil.py").read_text().endswith("a + b\n") for f in folders)


def test_killed_worker_task_resumes_on_another(cluster: Cluster, projects: Projects) -> None:
    (folder,) = projects(1)
    task_id = cluster.submit(folder)
    until(lambda: _tool_calls(cluster, task_id) >= 2, timeout=30)
    before = cluster.task(task_id)
    dead = cluster.worker_of(before)
    dead.kill()

    cluster.wait_ended([task_id], timeout=60)
    after = cluster.task(task_id)
    assert after["status"] == "completed", after["summary"]
    assert after["resumes"] >= 1
    assert cluster.worker_of(after) is not dead
    assert after["claude_session_id"] == before["claude_session_id"]
    sequences = [i["sequence"] for i in after["interactions"]]
    assert sequences == list(range(1, len(sequences) + 1))  # nothing lost, nothing doubled
    assert after["interactions"][: len(before["interactions"])] == before["interactions"]
    assert (folder / "mathutil.py").read_text().endswith("a + b\n")
    assert task_pids(task_id) == []


def test_cancel_reaches_the_worker(cluster: Cluster, projects: Projects) -> None:
    (folder,) = projects(1)
    task_id = cluster.submit(folder)
    until(lambda: _tool_calls(cluster, task_id) >= 1 and task_pids(task_id) != [], timeout=30)

    started = time.monotonic()
    cluster.post(f"/api/v1/tasks/{task_id}/cancel")
    until(lambda: cluster.status(task_id) == "cancelled", timeout=5)
    until(lambda: task_pids(task_id) == [], timeout=5 - (time.monotonic() - started))
    assert time.monotonic() - started < 5


def test_events_of_a_worker_reach_the_api_stream(cluster: Cluster, projects: Projects) -> None:
    (folder,) = projects(1)
    task_id = cluster.submit(folder)
    events: list[tuple[str, dict[str, object]]] = []
    with httpx.stream("GET", f"{cluster.url}/api/v1/tasks/{task_id}/events", timeout=60) as stream:
        kind = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((kind, json.loads(line.removeprefix("data: "))))
                if kind == "done":
                    break

    assert events[-1][0] == "done"
    tool_uses = [d for k, d in events if k == "interaction" and d.get("kind") == "tool_use"]
    assert len(tool_uses) >= 5  # the slow steps, streamed while the worker ran them
    statuses = [d["content"] for k, d in events if k == "status" and d.get("kind") == "status"]
    assert statuses[-1] == "completed"
