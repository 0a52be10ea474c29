"""Load: many concurrent clients creating tasks and polling their status.

Also the reliability check of SQLite under concurrent writers (the worker finishing
tasks, clients creating them) and pollers: every request must succeed, the server log
must not mention a locked database, and every submitted task must be accounted for.

Tasks fail fast on purpose — the CLI is a script that exits at once, the tests a command
that does nothing — so the run measures the server and its database, not agents or test
runners; no task process needs CPU.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.client import TERMINAL
from benchmarks.config import Context
from benchmarks.report import CaseResult, Target
from benchmarks.server import BenchServer, server_env
from benchmarks.stats import latency_summary

POLL_SECONDS = 0.1  # each client's pause between status polls
DRAIN_SECONDS = 45.0  # after the clients stop, how long the queue may take to empty
REQUEST_TIMEOUT_SECONDS = 30.0
FAILING_CLI = "#!/bin/sh\nexit 1\n"


@dataclass
class LoadResult:
    clients: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    submitted: set[str] = field(default_factory=set)
    accounted: int = 0
    unfinished: int = 0
    unfinished_states: list[str] = field(default_factory=list)
    locked_in_log: int = 0
    tracebacks_in_log: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies) + len(self.errors)

    def summary(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "seconds": self.seconds,
            "requests": self.requests,
            "requests_per_s": round(self.requests / self.seconds, 1),
            "errors": len(self.errors),
            "error_samples": self.errors[:5],
            "latency": latency_summary(self.latencies),
            "tasks_submitted": len(self.submitted),
            "tasks_accounted": self.accounted,
            "tasks_unfinished": self.unfinished,
            "unfinished_states": self.unfinished_states,
            "database_locked_in_log": self.locked_in_log,
            "tracebacks_in_log": self.tracebacks_in_log,
        }


async def _call(
    client: httpx.AsyncClient, result: LoadResult, method: str, path: str, **kw: Any
) -> dict[str, Any] | None:
    started = time.perf_counter()
    try:
        response = await client.request(method, path, **kw)
    except httpx.HTTPError as exc:
        result.errors.append(f"{method} {path}: {type(exc).__name__}: {exc}")
        return None
    if not response.is_success:
        result.errors.append(f"{method} {path}: HTTP {response.status_code} {response.text[:200]}")
        return None
    result.latencies.append(time.perf_counter() - started)
    body: dict[str, Any] = response.json()
    return body


async def _client(
    client: httpx.AsyncClient, result: LoadResult, project: Path, deadline: float
) -> None:
    session = await _call(
        client, result, "POST", "/api/v1/sessions",
        json={"project_path": str(project), "test_command": "true"},
    )  # fmt: skip
    if session is None:
        return
    while time.perf_counter() < deadline:
        task = await _call(
            client,
            result,
            "POST",
            "/api/v1/tasks",
            json={"session_id": session["id"], "description": "load"},
        )
        if task is None:
            await asyncio.sleep(POLL_SECONDS)
            continue
        result.submitted.add(task["id"])
        while time.perf_counter() < deadline:
            status = await _call(client, result, "GET", f"/api/v1/tasks/{task['id']}/status")
            if status is not None and status["status"] in TERMINAL:
                break
            await asyncio.sleep(POLL_SECONDS)


async def _all_tasks(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(10_000):  # bounded: 500 per page
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/tasks", params=params)).raise_for_status().json()
        tasks += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    return tasks


async def _account(client: httpx.AsyncClient, result: LoadResult) -> None:
    """Wait (bounded) for the queue to drain, then check every task is there and ended."""
    deadline = time.perf_counter() + DRAIN_SECONDS
    mine: list[dict[str, Any]] = []
    unfinished: list[dict[str, Any]] = []
    while time.perf_counter() < deadline:
        try:
            tasks = await _all_tasks(client)
        except httpx.HTTPError as exc:  # a stuck server is a finding, not a crash
            result.errors.append(f"GET /api/v1/tasks (accounting): {type(exc).__name__}: {exc}")
            continue
        mine = [t for t in tasks if t["id"] in result.submitted]
        unfinished = [t for t in mine if t["status"] not in TERMINAL]
        if not unfinished:
            break
        await asyncio.sleep(0.25)
    result.accounted = len(mine)
    result.unfinished = len(unfinished) if mine else len(result.submitted)
    result.unfinished_states = sorted({t["status"] for t in unfinished})


async def load_test(
    workdir: Path, fake_env: dict[str, str], clients: int, seconds: float, concurrency: int = 4
) -> LoadResult:
    """`clients` concurrent clients for `seconds` against a fresh server; see the module doc."""
    workdir.mkdir(parents=True, exist_ok=True)
    cli = workdir / "failing-claude"
    cli.write_text(FAILING_CLI)
    cli.chmod(0o755)
    env = server_env(workdir, fake_env, max_concurrent_tasks=concurrency, claude_cli_command=cli)
    projects = []
    for i in range(clients):
        projects.append(workdir / "projects" / f"client-{i}")
        projects[-1].mkdir(parents=True, exist_ok=True)
    result = LoadResult(clients=clients, seconds=seconds)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    with BenchServer(env, workdir / "server.log") as server:
        async with httpx.AsyncClient(
            base_url=server.url, timeout=REQUEST_TIMEOUT_SECONDS, limits=limits
        ) as client:
            deadline = time.perf_counter() + seconds
            await asyncio.gather(*(_client(client, result, p, deadline) for p in projects))
            await _account(client, result)
        log = server.log_text()
    result.locked_in_log = log.count("database is locked")
    result.tracebacks_in_log = log.count("Traceback")
    return result


async def run(ctx: Context) -> CaseResult:
    size = ctx.size
    result = await load_test(
        ctx.dir("load"), ctx.fake_env, size.load_clients, size.load_seconds, size.concurrency
    )
    summary = result.summary()
    return CaseResult(
        name="load",
        title="Load (clients creating + polling)",
        metrics=summary,
        targets=[
            Target(
                "errors (HTTP, exceptions, locked DB)",
                len(result.errors) + result.locked_in_log,
                0,
                "",
            ),
            Target(
                "tasks not accounted or unfinished",
                len(result.submitted) - result.accounted + result.unfinished,
                0,
                "",
            ),
        ],
    )
