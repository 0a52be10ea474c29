"""The procrastinate app: its connection, its jobs, and how a task becomes a job."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import procrastinate
from procrastinate import BaseRetryStrategy, RetryDecision, RetryStrategy
from procrastinate.jobs import Job

from claudeserver.domain.executors import jobs
from claudeserver.domain.executors.schema import conninfo
from claudeserver.persistence.models import Task
from claudeserver.settings import Settings


class TaskRetry(BaseRetryStrategy):
    """Only a shutdown (at once, as often as it happens) and a hold by the daily budget
    (later) run a task's job again; a task that fails has already recorded why, and a
    user's retry is a new job."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, jobs.Interrupted):
            return RetryDecision(retry_in={"seconds": 0})
        if isinstance(exception, jobs.HeldBack):
            return RetryDecision(retry_in={"seconds": round(exception.seconds)})
        return None


def make_app(settings: Settings) -> procrastinate.App:
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo(settings.database_url))
    )
    app.task(
        name=jobs.RUN_TASK,
        queue=jobs.TASKS_QUEUE,
        pass_context=True,
        retry=TaskRetry(),
    )(jobs.run_task)
    app.task(
        name=jobs.DELIVER_WEBHOOK,
        queue=jobs.MAINTENANCE_QUEUE,
        pass_context=True,
        retry=RetryStrategy(max_attempts=3),  # deliver() retries HTTP itself; this is crashes
    )(jobs.deliver_webhook)
    stalled_cron = every_seconds(settings.worker_stalled_seconds / 3)
    _periodic(app, jobs.RETRY_STALLED, jobs.retry_stalled_jobs, cron=stalled_cron)
    cleanup_cron = every_minutes(settings.workspace_cleanup_seconds / 60)
    _periodic(app, jobs.REMOVE_WORKSPACES, jobs.remove_workspaces, cron=cleanup_cron)
    return app


def _periodic(app: procrastinate.App, name: str, job: Callable[..., Any], *, cron: str) -> None:
    """A maintenance job on a schedule; its queueing lock keeps one of it waiting at most."""
    task = app.task(name=name, queue=jobs.MAINTENANCE_QUEUE, queueing_lock=name, pass_context=True)
    app.periodic(cron=cron)(task(job))


def every_seconds(seconds: float) -> str:
    """A cron (procrastinate's sixth field is seconds) firing about every `seconds`."""
    step = min(59, max(1, round(seconds)))
    return f"* * * * * */{step}"


def every_minutes(minutes: float) -> str:
    step = min(59, max(1, round(minutes)))
    return f"*/{step} * * * *"


def job_lock(task: Task) -> str:
    """Tasks sharing a project folder take turns; any one task never runs twice at once."""
    if task.session.isolation == "none":
        return str(Path(task.session.project_path))
    return f"task:{task.id}"


async def defer_run(app: procrastinate.App, task: Task) -> int:
    return await app.configure_task(
        jobs.RUN_TASK, lock=job_lock(task), priority=task.priority or 0
    ).defer_async(task_id=task.id)


async def cancel_waiting(app: procrastinate.App, task: Task) -> int:
    """Cancel the task's jobs no worker has taken yet; returns how many."""
    manager = app.job_manager
    waiting = await manager.list_jobs_async(task=jobs.RUN_TASK, status="todo", lock=job_lock(task))
    cancelled = 0
    for job in waiting:
        if job.task_kwargs.get("task_id") == task.id and job.id is not None:
            cancelled += await manager.cancel_job_by_id_async(job.id)
    return cancelled
