"""An API process and worker processes on one PostgreSQL database, as real OS processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from tests.integration.server_process import free_port

TERMINAL = {"completed", "failed", "cancelled"}
STALLED_SECONDS = 3.0  # WORKER_STALLED_SECONDS of the test fleet
REGISTERED = text(
    "SELECT count(*) FROM procrastinate_workers"
    " WHERE last_heartbeat > now() - make_interval(secs => :fresh)"
)


class Process:
    def __init__(self, args: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "claudeserver", *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, agents included
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def terminate(self, timeout: float) -> int:
        """SIGTERM, as a service manager stops it; its exit code."""
        self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the whole group, as if its machine died."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


class Cluster:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = env["DATABASE_URL"]
        # About scale-out, not authentication: opted out of it.
        self.env = {
            **os.environ,
            "AUTH": "none",
            **env,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
        }
        self.logs = logs
        self.workers: list[Process] = []
        self.api: Process | None = None

    def start(self, workers: int, concurrency: int) -> Cluster:
        """All at once on the empty database, as a fleet (re)starting would."""
        self.api = Process(["serve", "--no-executor"], self.env, self.logs / "api.log")
        for n in range(workers):
            log = self.logs / f"worker{n}.log"
            self.workers.append(
                Process(["worker", "--concurrency", str(concurrency)], self.env, log)
            )
        self._until(self._healthy, "the API did not start", self.logs / "api.log")
        self._until(lambda: self._registered() >= workers, "workers did not start", log)
        return self

    def add_worker(self, concurrency: int) -> Process:
        log = self.logs / f"worker{len(self.workers)}.log"
        worker = Process(["worker", "--concurrency", str(concurrency)], self.env, log)
        live = sum(1 for w in self.workers if w.popen.poll() is None)
        self.workers.append(worker)
        self._until(lambda: self._registered() > live, "the worker did not start", log)
        return worker

    def stop(self) -> None:
        for process in [*self.workers, self.api]:
            if process is not None:
                process.kill()

    def get(self, path: str) -> Any:
        return httpx.get(f"{self.url}{path}", timeout=10).json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.post(f"{self.url}{path}", json=body, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def submit(self, project: Path, description: str = "Add add(a, b)") -> str:
        session = self.post("/api/v1/sessions", {"project_path": str(project)})
        task = self.post("/api/v1/tasks", {"session_id": session["id"], "description": description})
        return str(task["id"])

    def task(self, task_id: str) -> dict[str, Any]:
        task: dict[str, Any] = self.get(f"/api/v1/tasks/{task_id}")
        return task

    def status(self, task_id: str) -> str:
        return str(self.get(f"/api/v1/tasks/{task_id}/status")["status"])

    def wait_ended(self, task_ids: Sequence[str], timeout: float = 60) -> None:
        until(lambda: all(self.status(t) in TERMINAL for t in task_ids), timeout)

    def worker_of(self, task: dict[str, Any]) -> Process:
        (worker,) = [w for w in self.workers if task["worker"].endswith(f":{w.pid}")]
        return worker

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def _registered(self) -> int:
        """Worker processes with a live task worker in procrastinate's table."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                if not conn.execute(text("SELECT to_regclass('procrastinate_workers')")).scalar():
                    return 0
                # Two procrastinate workers per process: tasks and maintenance.
                return int(conn.execute(REGISTERED, {"fresh": STALLED_SECONDS}).scalar_one()) // 2
        finally:
            engine.dispose()

    @staticmethod
    def _until(predicate: Any, message: str, log: Path, timeout: float = 30) -> None:
        try:
            until(predicate, timeout)
        except AssertionError:
            raise AssertionError(f"{message}:\n{log.read_text()[-3000:]}") from None


def until(predicate: Any, timeout: float = 60, step: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(step)
