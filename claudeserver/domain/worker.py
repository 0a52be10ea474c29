"""Runs pending tasks: a fixed number of slots, one task per project at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.domain import lifecycle, spending, webhooks
from claudeserver.domain.processes import kill_task_processes, yield_cpu
from claudeserver.domain.retention import remove_old_workspaces
from claudeserver.persistence import tasks
from claudeserver.persistence.models import utcnow
from claudeserver.settings import Settings
from claudeserver.vocabulary import ACTIVE, TaskStatus

if TYPE_CHECKING:
    from claudeserver.domain.taskrun import TaskRun

log = logging.getLogger(__name__)

ANNOUNCED_MEMORY = 1000


@dataclass
class _Slot:
    job: asyncio.Task[None]
    project: str


class Worker:
    """The in-process executor: runs agent tasks on an event loop of its own thread.

    A loop apart from the API's: streaming agents (parsing the CLI's messages, storing
    each one) then never delays the answer to a status request. Public methods are safe
    from any thread.
    """

    def __init__(self, settings: Settings, db: sessionmaker[DB]) -> None:
        self.settings = settings
        self.db = db
        self._wake = asyncio.Event()
        self._stopping = False
        self._slots: dict[str, _Slot] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop_timeout = 5.0
        self._background: set[asyncio.Task[None]] = set()
        self._announced: dict[tuple[str, int], None] = {}  # insertion-ordered, bounded
        self._next_cleanup = utcnow()
        self._held = False  # by DAILY_BUDGET_USD: look again when the UTC day changes

    def start(self) -> None:
        self._requeue_interrupted()
        ready = threading.Event()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._serve(ready)), name="claudeserver-worker", daemon=True
        )
        self._thread.start()
        ready.wait()

    async def _serve(self, ready: threading.Event) -> None:
        yield_cpu(self.settings.agent_nice)  # this thread runs agents, tests and their children
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()  # bound to this loop
        ready.set()
        await self._dispatch()
        # Stopping: interrupt what runs, waiting at most the stop timeout.
        jobs = [slot.job for slot in self._slots.values()] + list(self._background)
        for job in jobs:
            job.cancel()
        if jobs:
            await asyncio.wait(jobs, timeout=self._stop_timeout)

    def submit(self, task_id: str) -> None:
        """A task became pending (created or retried): look for work."""
        self._call(self._wake.set)

    def task_ended(self, task_id: str) -> None:
        """A task reached a final status: tell its webhook, if it has one."""
        self._call(lambda: self._track(asyncio.create_task(self._announce(task_id))))

    async def _announce(self, task_id: str) -> None:
        with self.db() as s:
            task = tasks.get_task(s, task_id=task_id)
            key = (task_id, task.attempt if task else 0)
        # Both the cancel endpoint and the task's own ending may report one ending, moments
        # apart: only the most recent endings need remembering.
        if key in self._announced:
            return
        self._announced[key] = None
        if len(self._announced) > ANNOUNCED_MEMORY:
            del self._announced[next(iter(self._announced))]
        settings = self.settings
        try:
            await webhooks.deliver(
                self.db,
                task_id,
                secret=settings.webhook_secret,
                attempts=settings.webhook_attempts,
                base_delay=settings.webhook_retry_seconds,
                public_url=settings.dashboard_url,
            )
        except Exception:
            log.exception("webhook delivery for task %s failed", task_id)

    def _track(self, job: asyncio.Task[None]) -> None:
        # Keep a reference so the job is not garbage-collected, and cancel it on stop.
        self._background.add(job)
        job.add_done_callback(self._background.discard)

    def _call(self, fn: object) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn)  # type: ignore[arg-type]

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop taking work and interrupt running tasks, waiting at most `timeout` seconds.

        Interrupted this way (no cancel reason) a task keeps its active status, so the next
        start requeues it and resumes its Claude conversation. Tasks run for minutes, so
        waiting for them to finish is not an option.
        """
        self._stop_timeout = timeout
        self._stopping = True
        self._call(self._wake.set)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, timeout + 2)

    async def _dispatch(self) -> None:
        while not self._stopping:
            self._wake.clear()
            self._start_what_fits()
            await self._remove_old_workspaces()
            timeout = self.settings.workspace_cleanup_seconds
            if self._held:
                timeout = min(timeout, spending.seconds_to_next_day(spending.utc_now()) + 1)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _remove_old_workspaces(self) -> None:
        now = utcnow()
        if now < self._next_cleanup:
            return
        self._next_cleanup = now + timedelta(seconds=self.settings.workspace_cleanup_seconds)
        await asyncio.to_thread(remove_old_workspaces, self.db, self.settings)

    def _start_what_fits(self) -> None:
        with self.db() as s:
            waiting = tasks.tasks_with_status(s, statuses=[TaskStatus.PENDING])
            hold = spending.daily_hold(s, self.settings.daily_budget_usd) if waiting else None
            self._held = hold is not None
            if hold is not None:
                spending.hold(s, waiting, hold)
                return
            # Worktree tasks have their own copy; others share the folder and take turns.
            pending = [
                (t.id, str(Path(t.session.project_path)) if t.session.isolation == "none" else t.id)
                for t in waiting
            ]
        busy = {slot.project for slot in self._slots.values()}
        for task_id, project in pending:
            if len(self._slots) >= self.settings.max_concurrent_tasks:
                return
            if project in busy or task_id in self._slots:
                continue  # waits as pending until the project is free
            busy.add(project)
            # Imported with the first task: the agent SDK takes seconds to import, and the
            # API should not wait for it to start serving.
            from claudeserver.domain.taskrun import TaskRun

            run = TaskRun(task_id, settings=self.settings, db=self.db)
            job = asyncio.create_task(self._run(run), name=f"task-{task_id}")
            self._slots[task_id] = _Slot(job, project)

    async def _run(self, run: TaskRun) -> None:
        try:
            await run.run()
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("task %s crashed", run.task_id)
        finally:
            self._slots.pop(run.task_id, None)
            self._wake.set()
        with self.db() as s:
            task = tasks.get_task(s, task_id=run.task_id)
            ended = task is not None and TaskStatus(task.status).is_terminal
        if ended:
            self.task_ended(run.task_id)

    def _requeue_interrupted(self) -> None:
        """Tasks a previous process left active go back to the queue and resume."""
        with self.db() as s:
            for task in tasks.tasks_with_status(s, statuses=sorted(ACTIVE)):
                kill_task_processes(task.id)
                lifecycle.requeue(s, task, why="server restarted; resuming")
