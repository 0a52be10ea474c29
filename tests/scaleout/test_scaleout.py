"""Scale-out: an API-only process and two worker processes share one PostgreSQL queue.

Two tests, each with its own database and processes: starting a fleet costs seconds and
every agent here is a real Claude Code CLI, so each test covers several behaviours.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from claudeserver.domain.processes import task_pids
from tests.checks import assert_resumed_intact
from tests.models import calculator, slow_calculator
from tests.scaleout.cluster import Cluster, until
from tests.scaleout.conftest import StartCluster

# Several CLIs at once on a small CI machine, beside the rest of the suite.
pytestmark = [pytest.mark.scaleout, pytest.mark.agent, pytest.mark.timeout(300)]

Projects = Callable[[int], list[Path]]


def test_tasks_spread_over_workers_and_stream_through_the_api(
    start_cluster: StartCluster, projects: Projects
) -> None:
    cluster = start_cluster(calculator())
    folders = projects(4)  # more than one worker's two slots hold
    task_ids = [cluster.submit(folder) for folder in folders]
    events = _stream(cluster, task_ids[0])  # live, while the workers run the tasks
    cluster.wait_ended(task_ids, timeout=90)

    tasks = [cluster.task(t) for t in task_ids]
    assert [t["status"] for t in tasks] == ["completed"] * 4, [t["summary"] for t in tasks]
    assert {cluster.worker_of(t).pid for t in tasks} == {w.pid for w in cluster.workers}
    assert all((f / "mathutil.py").read_text().endswith("a + b\n") for f in folders)

    kinds = [(kind, data.get("kind")) for kind, data in events]
    assert kinds[-1] == ("done", None)
    assert ("interaction", "tool_use") in kinds and ("test_result", "test_result") in kinds
    sequences = [data["sequence"] for kind, data in events if kind != "done"]
    assert sequences == [i["sequence"] for i in tasks[0]["interactions"]]


def test_cancel_stop_and_a_dead_worker(start_cluster: StartCluster, projects: Projects) -> None:
    cluster = start_cluster(slow_calculator())
    cancelled, handed_over, resumed = projects(3)

    # A cancel reaches the worker that runs the task through the database.
    task_id = cluster.submit(cancelled)
    until(lambda: _tool_calls(cluster, task_id) >= 1 and task_pids(task_id) != [], timeout=30)
    asked = time.monotonic()
    cluster.post(f"/api/v1/tasks/{task_id}/cancel")
    until(lambda: cluster.status(task_id) == "cancelled", timeout=5)
    until(lambda: task_pids(task_id) == [], timeout=5)
    assert time.monotonic() - asked < 5

    # A worker stopped mid-task (SIGTERM) exits at once; another one resumes the task.
    task_id = cluster.submit(handed_over)
    until(lambda: _tool_calls(cluster, task_id) >= 2, timeout=30)
    stopped = cluster.worker_of(cluster.task(task_id))
    asked = time.monotonic()
    assert stopped.terminate(timeout=10) == 0
    assert time.monotonic() - asked < 10
    cluster.wait_ended([task_id], timeout=60)
    after = cluster.task(task_id)
    assert after["status"] == "completed", after["summary"]
    assert after["resumes"] == 1 and cluster.worker_of(after) is not stopped
    cluster.add_worker(concurrency=2)

    # A worker killed mid-task: another one resumes the task and its conversation.
    task_id = cluster.submit(resumed)
    until(lambda: _tool_calls(cluster, task_id) >= 2, timeout=30)
    before = cluster.task(task_id)
    dead = cluster.worker_of(before)
    dead.kill()

    cluster.wait_ended([task_id], timeout=60)
    after = cluster.task(task_id)
    assert after["status"] == "completed", after["summary"]
    assert after["resumes"] >= 1
    assert cluster.worker_of(after) is not dead
    assert_resumed_intact(before, after, resumed)


def _tool_calls(cluster: Cluster, task_id: str) -> int:
    return sum(1 for i in cluster.task(task_id)["interactions"] if i["kind"] == "tool_use")


def _stream(cluster: Cluster, task_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The task's Server-Sent Events from the API process, until `done`."""
    events: list[tuple[str, dict[str, Any]]] = []
    url = f"{cluster.url}/api/v1/tasks/{task_id}/events"
    with httpx.stream("GET", url, timeout=60) as stream:
        kind = ""
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((kind, json.loads(line.removeprefix("data: "))))
                if kind == "done":
                    break
    return events
