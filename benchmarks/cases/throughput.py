"""Case 2: throughput — many tasks, `concurrency` at a time, server vs the floor script."""

from __future__ import annotations

import time

import httpx

from benchmarks import floor, scenario
from benchmarks.client import create_session, submit, wait_terminal
from benchmarks.config import Context
from benchmarks.report import CaseResult, Target
from benchmarks.server import BenchServer, server_env

RUN_TIMEOUT_SECONDS = 300.0


async def server_run(ctx: Context) -> tuple[float, dict[str, int]]:
    """Seconds from the first POST /tasks to the last task's end, and the end states."""
    size = ctx.size
    env = server_env(ctx.dir("throughput"), ctx.fake_env, max_concurrent_tasks=size.concurrency)
    projects = [
        scenario.make_project(ctx.workdir / "projects" / f"throughput-server-{i}")
        for i in range(size.throughput_tasks)
    ]
    with BenchServer(env, ctx.workdir / "throughput" / "server.log") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            # Each task in its own project: tasks of one plain folder take turns.
            sessions = [await create_session(client, p) for p in projects]
            started = time.perf_counter()
            ids = [await submit(client, s, scenario.DESCRIPTION) for s in sessions]
            # The global stream replays from the start, so no end can slip by unseen.
            ended = await wait_terminal(client, set(ids), RUN_TIMEOUT_SECONDS)
    statuses: dict[str, int] = {}
    for status, _ in ended.values():
        statuses[status] = statuses.get(status, 0) + 1
    last = max((t for _, t in ended.values()), default=time.perf_counter())
    return last - started, statuses


async def floor_run(ctx: Context, name: str) -> float:
    size = ctx.size
    projects = [
        scenario.make_project(ctx.workdir / "projects" / f"throughput-{name}-{i}")
        for i in range(size.throughput_tasks)
    ]
    started = time.perf_counter()
    await floor.run_many(projects, ctx.fake_env, size.concurrency)
    return time.perf_counter() - started


async def run(ctx: Context) -> CaseResult:
    tasks = ctx.size.throughput_tasks
    # Floor, server, floor: a machine that speeds up or slows down during the case
    # (a busy neighbour) then moves both sides alike.
    floor_before = await floor_run(ctx, "floor-a")
    server_seconds, statuses = await server_run(ctx)
    floor_after = await floor_run(ctx, "floor-b")
    floor_seconds = (floor_before + floor_after) / 2
    completed = statuses.get("completed", 0)
    server_tpm = completed / server_seconds * 60
    floor_tpm = tasks / floor_seconds * 60
    return CaseResult(
        name="throughput",
        title="Throughput",
        metrics={
            "tasks": tasks,
            "concurrency": ctx.size.concurrency,
            "server_tasks_per_min": round(server_tpm, 2),
            "floor_tasks_per_min": round(floor_tpm, 2),
            "ratio": round(server_tpm / floor_tpm, 3),
            "server_seconds": round(server_seconds, 3),
            "floor_seconds": [round(floor_before, 3), round(floor_after, 3)],
            "server_end_states": statuses,
        },
        targets=[Target("server/floor tasks per min", server_tpm / floor_tpm, 0.9, "x", "min")],
    )
