"""A disk that fills up under the database while a task runs, on a real (small) file system."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claudeserver.api.app import create_app
from claudeserver.settings import Settings
from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from tests.conftest import submit, wait_for
from tests.models import slow_calculator

pytestmark = pytest.mark.agent


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MB tmpfs: room for the database and its reserve, and quick to fill."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "--lazy", str(mount)], check=True)


def fill(disk: Path) -> None:
    """Write until the file system has no byte left."""
    with (disk / f"filler-{len(list(disk.iterdir()))}").open("wb", buffering=0) as file:
        try:
            while True:
                file.write(b"\0" * 65536)
        except OSError:
            pass
        try:
            while True:
                file.write(b"\0")
        except OSError:
            pass


def _wait_for_tool_call(api: TestClient, task_id: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page = api.get(f"/api/v1/tasks/{task_id}/interactions").json()
        if any(i["kind"] == "tool_use" for i in page["items"]):
            return
        time.sleep(0.1)
    raise AssertionError("the agent never called a tool")


def test_full_disk_fails_the_task_with_advice_and_the_server_keeps_serving(
    small_disk: Path,
    settings: Settings,
    project: Path,
    fake_model: Callable[[Model], FakeAnthropic],
) -> None:
    fake_model(slow_calculator())
    settings.database_url = f"sqlite:///{small_disk / 'tasks.db'}"
    with TestClient(create_app(settings)) as api:
        assert (small_disk / "tasks.db.reserve").stat().st_size >= 8_000_000
        task_id = submit(api, project, "Add add(a, b)")
        _wait_for_tool_call(api, task_id)  # the agent is at work
        fill(small_disk)

        task = wait_for(api, task_id, timeout=60)

        assert task["status"] == "failed"
        assert "The disk is full" in task["error"], task["error"]
        assert f"Free space on {small_disk}" in task["error"]
        assert not (small_disk / "tasks.db.reserve").exists()  # spent to record the failure
        # Reads go on; /health names the problem.
        health = api.get("/health").json()
        assert health["status"] == "degraded"
        assert "disk nearly full" in health["database"] and str(small_disk) in health["database"]
        assert api.get(f"/api/v1/tasks/{task_id}/interactions").status_code == 200
        # A write now gets a clear refusal, not a bare 500.
        fill(small_disk)
        refused = api.post("/api/v1/sessions", json={"project_path": str(project)})
        assert refused.status_code == 507, refused.text
        assert "Nothing was stored. The disk is full" in refused.json()["detail"]
