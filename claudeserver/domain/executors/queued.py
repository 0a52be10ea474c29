"""The API's side of the job queue: tasks become procrastinate jobs in PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.domain.executors import jobs, queue
from claudeserver.domain.executors.jobs import Runtime
from claudeserver.domain.executors.workers import QueueWorkers
from claudeserver.persistence import tasks
from claudeserver.settings import Settings

log = logging.getLogger(__name__)

# A route thread waits this long for its job to be stored before the request fails.
DEFER_TIMEOUT = 10.0


class QueueExecutor:
    """Defers jobs for `claudeserver worker` processes, and runs a worker too if asked.

    Public methods are safe from any thread: routes run in a thread pool, and the
    procrastinate connection pool belongs to the server's event loop.
    """

    def __init__(self, settings: Settings, db: sessionmaker[DB], *, run_worker: bool) -> None:
        self.db = db
        self.app = queue.make_app(settings)
        self.workers = (
            QueueWorkers(self.app, Runtime(settings, db), concurrency=settings.max_concurrent_tasks)
            if run_worker
            else None
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._open: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._open = asyncio.create_task(self._start())

    async def _start(self) -> None:
        await self.app.open_async()
        if self.workers is not None:
            self.workers.start()

    async def stop(self, timeout: float = 5.0) -> None:
        if self.workers is not None:
            await self.workers.stop(timeout)
        if self._background:  # jobs being stored (a cancel's webhook): milliseconds
            await asyncio.wait(self._background, timeout=1.0)
        pending = [*self._background, *([self._open] if self._open is not None else [])]
        for job in pending:
            job.cancel()  # the opening too, when the server stops while it starts
        await asyncio.gather(*pending, return_exceptions=True)
        await self.app.close_async()  # a no-op when it never opened

    def submit(self, task_id: str) -> None:
        self._call(self._defer(task_id))

    def task_ended(self, task_id: str) -> None:
        self._call(self._ended(task_id))

    async def _defer(self, task_id: str) -> None:
        await self._ready()
        with self.db() as s:
            task = tasks.get_task(s, task_id=task_id)
            if task is not None:
                await queue.defer_run(self.app, task)

    async def _ended(self, task_id: str) -> None:
        await self._ready()
        with self.db() as s:
            task = tasks.get_task(s, task_id=task_id)
            if task is None:
                return
            # A cancelled task's job must not hold a worker slot, however briefly.
            await queue.cancel_waiting(self.app, task)
        await self.app.configure_task(jobs.DELIVER_WEBHOOK).defer_async(task_id=task_id)

    async def _ready(self) -> None:
        assert self._open is not None, "start() first"
        await asyncio.shield(self._open)

    def _call(self, job: Coroutine[Any, Any, None]) -> None:
        loop = self._loop
        assert loop is not None, "start() first"
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            # From an async route: never block the loop; failures are logged.
            task = loop.create_task(job)
            self._background.add(task)
            task.add_done_callback(self._finished)
        else:
            # From a route's thread: wait, so a job that could not be stored is an error
            # the client sees rather than a task that stays pending for ever.
            asyncio.run_coroutine_threadsafe(job, loop).result(DEFER_TIMEOUT)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("queue operation failed", exc_info=task.exception())
