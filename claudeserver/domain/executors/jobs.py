"""The queue's jobs: run one task, tell a task's webhook, put stalled jobs back in the queue.

They run inside `claudeserver worker` processes (or `serve` with its in-process worker) and
reach the server's settings and database through the worker's additional context.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from procrastinate import JobContext
from procrastinate.job_context import AbortReason
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.domain import lifecycle, spending, webhooks
from claudeserver.domain.processes import kill_task_processes
from claudeserver.domain.retention import remove_old_workspaces
from claudeserver.domain.taskrun import WORKER_NAME, TaskRun
from claudeserver.persistence import tasks
from claudeserver.settings import Settings
from claudeserver.vocabulary import ACTIVE, TaskStatus

log = logging.getLogger(__name__)

# Job names are stored in the queue: API and workers of any version must agree on them.
RUN_TASK = "claudeserver.run_task"
DELIVER_WEBHOOK = "claudeserver.deliver_webhook"
RETRY_STALLED = "claudeserver.retry_stalled_jobs"
REMOVE_WORKSPACES = "claudeserver.remove_old_workspaces"
TASKS_QUEUE = "tasks"
# Webhooks and stalled-job recovery get their own queue and worker, so they never wait
# behind agent tasks that hold every task slot for an hour.
MAINTENANCE_QUEUE = "maintenance"
RUNTIME = "claudeserver"  # key of the Runtime in the worker's additional context
# A task held back by DAILY_BUDGET_USD is looked at again this often (a restarted worker
# may have a higher cap), and at the start of the next UTC day.
HOLD_RECHECK_SECONDS = 300


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    db: sessionmaker[DB]


class Interrupted(Exception):
    """A worker shutdown stopped the task; the job's retry strategy queues it again."""


class HeldBack(Exception):
    """DAILY_BUDGET_USD is spent: the job's retry strategy queues it again in `seconds`."""

    def __init__(self, reason: str, seconds: float) -> None:
        super().__init__(reason)
        self.seconds = seconds


def runtime(context: JobContext) -> Runtime:
    value = context.additional_context[RUNTIME]
    assert isinstance(value, Runtime)
    return value


async def run_task(context: JobContext, task_id: str) -> str:
    rt = runtime(context)
    if not _claim(rt.db, task_id):
        return "nothing to run"
    _check_daily_budget(rt, task_id)
    try:
        await TaskRun(task_id, settings=rt.settings, db=rt.db).run()
    except asyncio.CancelledError:
        if context.abort_reason() is AbortReason.SHUTDOWN:
            # The task stayed active; the retry runs it on a live worker, which resumes it.
            raise Interrupted(f"worker {WORKER_NAME} shut down during the task") from None
        raise
    finally:
        status = _status(rt.db, task_id)
        # A cancel is announced by whoever cancelled (the API); other endings by their run.
        if status is not None and status.is_terminal and status is not TaskStatus.CANCELLED:
            await context.app.configure_task(DELIVER_WEBHOOK).defer_async(task_id=task_id)
    return status.value if status else "gone"


def _claim(db: sessionmaker[DB], task_id: str) -> bool:
    """True when the task is pending, after requeueing it if a dead worker left it active.

    A job's lock (the task, or its shared project) keeps any other job of this task from
    running now, so an active task here was left so by a worker that died or stopped.
    """
    with db() as s:
        task = tasks.get_task(s, task_id=task_id)
        if task is None:
            return False
        status = TaskStatus(task.status)
        if status not in ACTIVE:
            return status is TaskStatus.PENDING  # else cancelled while waiting, or a duplicate
        kill_task_processes(task_id)  # leftovers, when the dead worker ran on this machine
        return lifecycle.requeue(
            s, task, why=f"worker {task.worker} stopped; resuming on {WORKER_NAME}"
        )


def _check_daily_budget(rt: Runtime, task_id: str) -> None:
    """Raises HeldBack, the task staying pending, while today's spend is past the cap."""
    with rt.db() as s:
        reason = spending.daily_hold(s, rt.settings.daily_budget_usd)
        task = tasks.get_task(s, task_id=task_id)
        if reason is None or task is None:
            return
        spending.hold(s, [task], reason)
    until_tomorrow = spending.seconds_to_next_day(spending.utc_now()) + 1
    raise HeldBack(reason, min(until_tomorrow, HOLD_RECHECK_SECONDS))


def _status(db: sessionmaker[DB], task_id: str) -> TaskStatus | None:
    with db() as s:
        status, _ = tasks.status_of(s, task_id=task_id)
    return TaskStatus(status) if status else None


async def deliver_webhook(context: JobContext, task_id: str) -> bool:
    rt = runtime(context)
    return await webhooks.deliver(
        rt.db,
        task_id,
        secret=rt.settings.webhook_secret,
        attempts=rt.settings.webhook_attempts,
        base_delay=rt.settings.webhook_retry_seconds,
        public_url=rt.settings.dashboard_url,
    )


async def retry_stalled_jobs(context: JobContext, timestamp: int) -> int:
    """procrastinate's recipe: jobs of workers whose heartbeat stopped go back to the queue."""
    manager = context.app.job_manager
    silent = runtime(context).settings.worker_stalled_seconds
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=silent))
    for job in stalled:
        log.warning("job %s (%s) of a dead worker goes back to the queue", job.id, job.call_string)
        await manager.retry_job(job)
    return len(stalled)


async def remove_workspaces(context: JobContext, timestamp: int) -> int:
    """Finished workspaces past WORKSPACE_RETENTION_HOURS, on the worker that runs this.

    Workspaces live on the machine whose worker ran the task: with several worker machines,
    give them one shared WORKSPACES_DIR so any of them can clean up.
    """
    rt = runtime(context)
    return await asyncio.to_thread(remove_old_workspaces, rt.db, rt.settings)
