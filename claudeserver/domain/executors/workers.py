"""procrastinate workers of one process: agent tasks, and maintenance beside them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import procrastinate
from procrastinate.app import WorkerOptions

from claudeserver.domain.executors.jobs import MAINTENANCE_QUEUE, RUNTIME, TASKS_QUEUE, Runtime

# Webhook deliveries and stalled-job checks: short jobs, a few at a time.
MAINTENANCE_CONCURRENCY = 4


class QueueWorkers:
    """`concurrency` agent tasks from `queues`, plus a worker for the maintenance queue."""

    def __init__(
        self,
        app: procrastinate.App,
        runtime: Runtime,
        *,
        concurrency: int,
        queues: Sequence[str] = (TASKS_QUEUE,),
    ) -> None:
        self.app = app
        settings = runtime.settings
        common: WorkerOptions = {
            "additional_context": {RUNTIME: runtime},
            # The owner (uvicorn, or `claudeserver worker`) handles signals and stops us.
            "install_signal_handlers": False,
            "update_heartbeat_interval": settings.worker_heartbeat_seconds,
            "stalled_worker_timeout": settings.worker_stalled_seconds,
            # Agent tasks run for minutes: a stop interrupts them at once, and their jobs'
            # retry strategy hands them to a live worker, which resumes the conversation.
            "shutdown_graceful_timeout": 0,
            # The tasks table is the record; finished jobs would only pile up.
            "delete_jobs": "successful",
        }
        self.workers: list[WorkerOptions] = [
            {**common, "name": "tasks", "queues": list(queues), "concurrency": concurrency},
            {
                **common,
                "name": "maintenance",
                "queues": [MAINTENANCE_QUEUE],
                "concurrency": MAINTENANCE_CONCURRENCY,
            },
        ]
        self.runs: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.runs = [
            asyncio.create_task(self.app.run_worker_async(**options), name=options.get("name"))
            for options in self.workers
        ]

    async def wait(self) -> None:
        """Until one worker ends (it failed, or a stop was requested)."""
        await asyncio.wait(self.runs, return_when=asyncio.FIRST_COMPLETED)

    async def stop(self, timeout: float = 5.0) -> None:
        """Cancelling a worker's run is how procrastinate stops it gracefully (Worker.run)."""
        for run in self.runs:
            run.cancel()
        if self.runs:
            await asyncio.wait(self.runs, timeout=timeout)
