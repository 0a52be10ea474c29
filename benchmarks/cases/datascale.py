"""Case 6: the API over a large database (many tasks, a million interactions)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

from benchmarks import dataset
from benchmarks.client import paced_requests
from benchmarks.config import Context
from benchmarks.report import CaseResult, Target
from benchmarks.server import BenchServer, server_env
from benchmarks.stats import latency_summary, percentile

RATE = 100.0  # requests per second, all endpoints together

ENDPOINTS = ("status", "detail", "detail_capped", "list", "interactions_page")


def _paths(data: dataset.Dataset) -> Callable[[int], tuple[str, str]]:
    rng = random.Random(7)  # the same requests every run
    normal = data.task_ids[len(data.heavy_ids) :]

    def path(i: int) -> tuple[str, str]:
        label = ENDPOINTS[i % len(ENDPOINTS)]
        if label == "status":
            return label, f"/api/v1/tasks/{rng.choice(data.task_ids)}/status"
        if label == "detail":
            return label, f"/api/v1/tasks/{rng.choice(normal)}"
        if label == "detail_capped":  # a long history: the first 1000 interactions
            return label, f"/api/v1/tasks/{rng.choice(data.heavy_ids)}"
        if label == "list":
            return label, "/api/v1/tasks?limit=50"
        after = rng.randrange(0, max(1, data.per_heavy_task - 200))
        task_id = rng.choice(data.heavy_ids)
        return label, f"/api/v1/tasks/{task_id}/interactions?after={after}&limit=200"

    return path


async def run(ctx: Context) -> CaseResult:
    size = ctx.size
    workdir = ctx.dir("datascale")
    built = time.perf_counter()
    data = await asyncio.to_thread(
        dataset.build,
        workdir / "tasks.db",
        tasks=size.scale_tasks,
        interactions=size.scale_interactions,
    )
    build_seconds = time.perf_counter() - built
    db_bytes = data.path.stat().st_size
    env = server_env(workdir, ctx.fake_env)
    count = size.scale_requests * len(ENDPOINTS)
    with BenchServer(env, workdir / "server.log") as server:
        paced = await asyncio.to_thread(
            paced_requests,
            server.url,
            _paths(data),
            rate=RATE,
            count=count,
            max_seconds=count / RATE * 3,
        )
        startup = server.startup_seconds
    per_endpoint = {k: latency_summary(v) for k, v in paced.latencies.items()}
    everything = [x for v in paced.latencies.values() for x in v]
    return CaseResult(
        name="datascale",
        title="Data scale",
        metrics={
            "tasks": len(data.task_ids),
            "interactions": data.interactions,
            "heavy_task_interactions": data.per_heavy_task,
            "db_bytes": db_bytes,
            "db_bytes_per_interaction": round(db_bytes / data.interactions, 1),
            "build_seconds": round(build_seconds, 2),
            "startup_seconds": round(startup, 3),
            "errors": paced.errors,
            "endpoints": per_endpoint,
        },
        targets=[
            *(Target(f"{name} p99", s["p99_ms"], 30, "ms") for name, s in per_endpoint.items()),
            Target("all endpoints p99", percentile(everything, 99) * 1000, 30, "ms"),
        ],
    )
