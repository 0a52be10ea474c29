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

import httpx

from benchmarks import scenario
from benchmarks.client import EventRecorder, Paced, create_session, paced_requests, submit, wait_done
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


def _measure(server: BenchServer, ctx: Context, task_ids: list[str]) -> tuple[Paced, list[int]]:
    """The paced loop, sampling the server's RSS between requests (every ~0.25 s)."""
    samples: list[int] = []
    last = [0.0]

    def sample() -> None:
        now = time.perf_counter()
        if now - last[0] >= 0.25:
            last[0] = now
            samples.append(server.rss_bytes())

    size = ctx.size
    paced = paced_requests(
        server.url, _paths(task_ids), rate=size.request_rate, count=size.latency_requests,
        max_seconds=size.latency_requests / size.request_rate * 3, on_tick=sample,
    )  # fmt: skip
    return paced, samples


async def _wait_busy(client: httpx.AsyncClient, server: BenchServer, count: int) -> list[int]:
    """Until `count` tasks run an agent (a CLI per task); returns the CLI pids."""
    deadline = time.perf_counter() + BUSY_START_TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        running = (await client.get("/api/v1/tasks", params={"status": "running"})).json()
        clis = [p for p in server.children() if "claude" in command_line(p)]
        if len(running["items"]) >= count and len(clis) >= count:
            return clis
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{count} busy tasks did not start in time")


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
                clis = await _wait_busy(client, server, size.concurrency)
                loaded, loaded_rss = await asyncio.to_thread(_measure, server, ctx, busy)
                cli_rss = [rss_bytes(p) for p in clis]
                running = (await client.get("/api/v1/tasks", params={"status": "running"})).json()
                still_running = sum(1 for t in running["items"] if t["id"] in busy)
            finally:
                recorder.stop()
                for task_id in busy:
                    await client.post(f"/api/v1/tasks/{task_id}/cancel")

    return _result(ctx, idle, loaded, idle_rss, loaded_rss, cli_rss, recorder, still_running)


def _result(
    ctx: Context,
    idle: Paced,
    loaded: Paced,
    idle_rss: list[int],
    loaded_rss: list[int],
    cli_rss: list[int],
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
        "server_idle_mb": round(statistics.median(idle_rss) / MB, 1) if idle_rss else None,
        "server_loaded_mb": round(max(loaded_rss) / MB, 1) if loaded_rss else None,
        "cli_process_mb": round(statistics.median(cli_rss) / MB, 1) if cli_rss else None,
        "cli_processes": len(cli_rss),
    }
    status_p99 = percentile(loaded.latencies.get("status", []), 99) * 1000
    return CaseResult(
        name="latency",
        title="API/event latency, memory",
        metrics={"api": api, "events": {**events, "errors": recorder.errors}, "memory": memory},
        targets=[
            Target(f"status p99, {ctx.size.concurrency} tasks running", status_p99, 25, "ms"),
            Target("event latency p95", events["p95_ms"], 50, "ms"),
            Target(
                f"server RSS, {ctx.size.concurrency} tasks running",
                max(loaded_rss) / MB if loaded_rss else float("nan"), 150, "MB",
            ),
        ],
    )
