"""Runs pending tasks: a fixed number of slots, one task per project at a time."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.domain.status import ACTIVE, TaskStatus
from claudeserver.domain.task_runner import TaskRun
from claudeserver.persistence import repository as repo
from claudeserver.settings import Settings

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, settings: Settings, db: sessionmaker[DB]) -> None:
        self.settings = settings
        self.db = db
        self._wake = asyncio.Event()
        self._stopping = False
        self._running: dict[str, tuple[asyncio.Task[None], str]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._requeue_interrupted()
        self._main = asyncio.create_task(self._dispatch(), name="claudeserver-worker")

    def notify(self) -> None:
        """Safe from any thread: new work may be waiting."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Stop taking work, give running tasks a moment, then cancel them."""
        self._stopping = True
        self._wake.set()
        running = [task for task, _ in self._running.values()]
        if running:
            _, pending = await asyncio.wait(running, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._main is not None:
            await asyncio.gather(self._main, return_exceptions=True)

    async def _dispatch(self) -> None:
        while not self._stopping:
            self._wake.clear()
            self._start_what_fits()
            await self._wake.wait()

    def _start_what_fits(self) -> None:
        with self.db() as s:
            pending = [
                (t.id, str(Path(t.session.project_path)))
                for t in repo.tasks_with_status(s, statuses=[TaskStatus.PENDING])
            ]
        busy = {project for _, project in self._running.values()}
        for task_id, project in pending:
            if len(self._running) >= self.settings.max_concurrent_tasks:
                return
            if project in busy or task_id in self._running:
                continue  # waits as pending until the project is free
            busy.add(project)
            job = asyncio.create_task(self._run(task_id), name=f"task-{task_id}")
            self._running[task_id] = (job, project)

    async def _run(self, task_id: str) -> None:
        try:
            await TaskRun(task_id, settings=self.settings, db=self.db).run()
        except Exception:
            log.exception("task %s crashed", task_id)
        finally:
            self._running.pop(task_id, None)
            self._wake.set()

    def _requeue_interrupted(self) -> None:
        """Tasks a previous process left active go back to the queue and resume."""
        with self.db() as s:
            for task in repo.tasks_with_status(s, statuses=sorted(ACTIVE)):
                repo.transition(
                    s, task_id=task.id, to=TaskStatus.PENDING, note="server restarted; requeued"
                )
