"""Case 7: start-up — launching `python -m claudeserver serve` to the first good /health."""

from __future__ import annotations

import asyncio
import statistics

from benchmarks.config import Context
from benchmarks.report import CaseResult, Target
from benchmarks.server import BenchServer, server_env


def _once(ctx: Context, n: int) -> float:
    # A fresh database each time: the migrations are part of a first start.
    workdir = ctx.dir("startup", str(n))
    with BenchServer(server_env(workdir, ctx.fake_env), workdir / "server.log") as server:
        return server.startup_seconds


async def run(ctx: Context) -> CaseResult:
    times = [await asyncio.to_thread(_once, ctx, n) for n in range(ctx.size.startup_runs)]
    median = statistics.median(times)
    return CaseResult(
        name="startup",
        title="Start-up",
        metrics={
            "runs": len(times),
            "median_s": round(median, 3),
            "max_s": round(max(times), 3),
            "all_s": [round(t, 3) for t in times],
        },
        targets=[Target("launch to first /health (median)", median, 2, "s")],
    )
