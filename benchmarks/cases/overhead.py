"""Case 1: per-task overhead — the same task through the server and through the floor."""

from __future__ import annotations

import time

import httpx

from benchmarks import floor, scenario
from benchmarks.client import create_session, submit, wait_done
from benchmarks.config import Context
from benchmarks.report import CaseResult, Target
from benchmarks.server import BenchServer, server_env
from benchmarks.stats import ms, percentile

TASK_TIMEOUT_SECONDS = 120.0
ABSOLUTE_ALLOWANCE_SECONDS = 0.150  # the target: ≤ 10 % or ≤ 150 ms, whichever is larger


async def server_task(client: httpx.AsyncClient, ctx: Context, name: str) -> float:
    """Seconds from POST /tasks to the task's `done` event (the session exists already)."""
    project = scenario.make_project(ctx.workdir / "projects" / name)
    session = await create_session(client, project)
    started = time.perf_counter()
    task_id = await submit(client, session, scenario.DESCRIPTION)
    done = await wait_done(client, task_id, TASK_TIMEOUT_SECONDS)
    if done.data.get("status") != "completed":
        raise RuntimeError(f"server task {task_id} ended {done.data}")
    return done.received - started


async def floor_task(ctx: Context, name: str) -> float:
    project = scenario.make_project(ctx.workdir / "projects" / name)
    return await floor.run_task(project, ctx.fake_env, scenario.DESCRIPTION)


async def run(ctx: Context) -> CaseResult:
    env = server_env(ctx.dir("overhead"), ctx.fake_env, max_concurrent_tasks=1)
    floors: list[float] = []
    servers: list[float] = []
    with BenchServer(env, ctx.workdir / "overhead" / "server.log") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            if ctx.size.warmup:
                await floor_task(ctx, "overhead-warm-floor")
                await server_task(client, ctx, "overhead-warm-server")
            for i in range(ctx.size.overhead_tasks):
                # Alternate who goes first, so a drift in machine speed hits both alike.
                if i % 2 == 0:
                    floors.append(await floor_task(ctx, f"overhead-{i}-floor"))
                    servers.append(await server_task(client, ctx, f"overhead-{i}-server"))
                else:
                    servers.append(await server_task(client, ctx, f"overhead-{i}-server"))
                    floors.append(await floor_task(ctx, f"overhead-{i}-floor"))
    ratios = [s / f for s, f in zip(servers, floors, strict=True)]
    extra = [s - f for s, f in zip(servers, floors, strict=True)]
    floor_median = percentile(floors, 50)
    allowed = max(1.10, 1 + ABSOLUTE_ALLOWANCE_SECONDS / floor_median)
    return CaseResult(
        name="overhead",
        title="Per-task overhead",
        metrics={
            "tasks": len(ratios),
            "ratio_median": round(percentile(ratios, 50), 3),
            "ratio_p95": round(percentile(ratios, 95), 3),
            "overhead_median_ms": ms(percentile(extra, 50)),
            "overhead_p95_ms": ms(percentile(extra, 95)),
            "server_median_ms": ms(percentile(servers, 50)),
            "floor_median_ms": ms(floor_median),
            "server_ms": [ms(s) for s in servers],
            "floor_ms": [ms(f) for f in floors],
            "allowed_ratio": round(allowed, 3),
        },
        targets=[
            Target("median server/floor", percentile(ratios, 50), round(allowed, 3), "x"),
        ],
    )
