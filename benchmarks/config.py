"""Sizes: `full` is the real benchmark; `tiny` proves every case runs (smoke test, CI)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Size:
    name: str
    overhead_tasks: int  # sequential tasks, each through the server and the floor
    warmup: bool  # one uncounted task each way first (cold caches, CLI first start)
    throughput_tasks: int
    concurrency: int  # MAX_CONCURRENT_TASKS and the floor's semaphore
    latency_requests: int  # per phase (idle, loaded), at `request_rate`
    request_rate: float  # requests per second, both endpoints together
    load_clients: int
    load_seconds: float
    scale_tasks: int
    scale_interactions: int
    scale_requests: int  # per endpoint
    startup_runs: int
    confinement_rounds: int  # test rounds each way, confined and not


SIZES = {
    "full": Size(
        name="full",
        overhead_tasks=10,
        warmup=True,
        throughput_tasks=20,
        concurrency=4,
        latency_requests=600,
        request_rate=50,
        load_clients=50,
        load_seconds=20,
        scale_tasks=10_000,
        scale_interactions=1_000_000,
        scale_requests=200,
        startup_runs=5,
        confinement_rounds=10,
    ),
    "tiny": Size(
        name="tiny",
        overhead_tasks=1,
        warmup=False,
        throughput_tasks=1,
        concurrency=1,
        latency_requests=50,
        request_rate=50,
        load_clients=10,
        load_seconds=3,
        scale_tasks=200,
        scale_interactions=20_000,
        scale_requests=40,
        startup_runs=1,
        confinement_rounds=2,
    ),
}


@dataclass(frozen=True)
class Context:
    size: Size
    workdir: Path  # scratch space for projects, databases and server logs
    fake_env: dict[str, str]  # points a Claude Code CLI at the fake model

    def dir(self, *parts: str) -> Path:
        path = self.workdir.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path
