"""Cases 3-5: API latency idle and with running tasks, event latency, server memory.

One server: measured idle first, then while `concurrency` busy tasks run (a steady
stream of tool calls). The busy tasks are cancelled at the end.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from benchmarks import scenario
from benchmarks.client import (
    EventRecorder,
    Paced,
    create_session,
    paced_requests,
    submit,
    wait_done,
)
from benchmarks.config import Context
from benchmarks.report import CaseResult, Target
from benchmarks.server import BenchServer, command_line, rss_bytes, server_env
from benchmarks.stats import latency_summary, percentile

MB = 1024 * 1024
BUSY_START_TIMEOUT_SECONDS = 60.0


def _paths(task_ids: list[str]) -> Callable[[int], tuple[str, str]]:
    """Alternate the two endpoints; status cycles through the given tasks."""
    cycle = itertools.cycle(task_ids)

    def path(i: int) -> tuple[str, str]:
        if i % 2 == 0:
            return "status", f"/api/v1/tasks/{next(cycle)}/status"
        return "list", "/api/v1/tasks?limit=50"

    return path


@dataclass
class Memory:
    server: list[int] = field(default_factory=list)
    clis: list[int] = field(default_factory=list)  # one figure per CLI process per sample


def _cli_pids(server: BenchServer) -> list[int]:
    # The SDK also runs short `claude -v` checks; only agent CLIs stream JSON.
    return [p for p in server.children() if "stream-json" in command_line(p)]


def _measure(server: BenchServer, ctx: Context, task_ids: list[str]) -> tuple[Paced, Memory]:
    """The paced loop, sampling RSS between requests (every ~0.25 s)."""
    memory = Memory()
    last = [0.0]

    def sample() -> None:
        now = time.perf_counter()
        if now - last[0] >= 0.25:
            last[0] = now
            memory.server.append(server.rss_bytes())
            memory.clis += [r for r in map(rss_bytes, _cli_pids(server)) if r]

    size = ctx.size
    paced = paced_requests(
        server.url,
        _paths(task_ids),
        rate=size.request_rate,
        count=size.latency_requests,
        max_seconds=size.latency_requests / size.request_rate * 3,
        on_tick=sample,
    )
    return paced, memory


async def _wait_busy(client: httpx.AsyncClient, task_ids: list[str]) -> None:
    """Until every busy task's agent has made a tool call (its CLI is up and working)."""
    deadline = time.perf_counter() + BUSY_START_TIMEOUT_SECONDS
    waiting = set(task_ids)
    while waiting and time.perf_counter() < deadline:
        for task_id in list(waiting):
            page = await client.get(f"/api/v1/tasks/{task_id}/interactions", params={"limit": 200})
            if any(i["kind"] == "tool_use" for i in page.json()["items"]):
                waiting.discard(task_id)
        await asyncio.sleep(0.2)
    if waiting:
        raise RuntimeError(f"{len(waiting)} busy task(s) did not start working in time")


async def run(ctx: Context) -> CaseResult:
    size = ctx.size
    env = server_env(ctx.dir("latency"), ctx.fake_env, max_concurrent_tasks=size.concurrency)
    with BenchServer(env, ctx.workdir / "latency" / "server.log") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            # Idle: one finished task to ask about, nothing running.
            project = scenario.make_project(ctx.workdir / "projects" / "latency-idle")
            done_id = await submit(client, await create_session(client, project), "idle")
            await wait_done(client, done_id, 120)
            idle, idle_rss = await asyncio.to_thread(_measure, server, ctx, [done_id])

            recorder = EventRecorder(server.url).start()
            busy: list[str] = []
            try:
                for i in range(size.concurrency):
                    project = scenario.make_project(ctx.workdir / "projects" / f"latency-busy-{i}")
                    session = await create_session(client, project)
                    busy.append(await submit(client, session, scenario.BUSY_DESCRIPTION))
                await _wait_busy(client, busy)
                loaded, loaded_rss = await asyncio.to_thread(_measure, server, ctx, busy)
                running = (await client.get("/api/v1/tasks", params={"status": "running"})).json()
                still_running = sum(1 for t in running["items"] if t["id"] in busy)
            finally:
                recorder.stop()
                for task_id in busy:
                    await client.post(f"/api/v1/tasks/{task_id}/cancel")

    return _result(ctx, idle, loaded, idle_rss, loaded_rss, recorder, still_running)


def _result(
    ctx: Context,
    idle: Paced,
    loaded: Paced,
    idle_rss: Memory,
    loaded_rss: Memory,
    recorder: EventRecorder,
    still_running: int,
) -> CaseResult:
    api = {
        "rate_per_s": ctx.size.request_rate,
        "idle": {k: latency_summary(v) for k, v in idle.latencies.items()},
        "loaded": {k: latency_summary(v) for k, v in loaded.latencies.items()},
        "errors": idle.errors + loaded.errors,
        "busy_tasks": ctx.size.concurrency,
        "busy_tasks_running_at_end": still_running,
    }
    events = latency_summary(recorder.delays)
    memory = {
        "server_idle_mb": _mb(idle_rss.server, statistics.median),
        "server_loaded_max_mb": _mb(loaded_rss.server, max),
        "server_loaded_median_mb": _mb(loaded_rss.server, statistics.median),
        "cli_process_median_mb": _mb(loaded_rss.clis, statistics.median),
        "cli_process_max_mb": _mb(loaded_rss.clis, max),
    }
    status_p99 = percentile(loaded.latencies.get("status", []), 99) * 1000
    return CaseResult(
        name="latency",
        title="API/event latency, memory",
        metrics={
            "api": api,
            "events": {**events, "errors": recorder.errors, "late": recorder.late},
            "memory": memory,
        },
        targets=[
            Target(f"status p99, {ctx.size.concurrency} tasks running", status_p99, 25, "ms"),
            Target("event latency p95", events["p95_ms"], 50, "ms"),
            Target(
                f"server RSS, {ctx.size.concurrency} tasks running",
                memory["server_loaded_max_mb"],
                150,
                "MB",
            ),
        ],
    )


def _mb(values: list[int], how: Callable[[list[int]], float]) -> float:
    return round(how(values) / MB, 1) if values else float("nan")
