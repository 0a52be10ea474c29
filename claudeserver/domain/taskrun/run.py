"""One task from start to end: prepared, conversed until its tests pass, reviewed and
committed; ended by a limit, a cancel, a timeout or an error; interrupted by a shutdown."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.agent.events import AgentError
from claudeserver.agent.protocol import AgentFactory
from claudeserver.agent.session import AgentSession
from claudeserver.domain import comments
from claudeserver.domain.processes import kill_task_processes
from claudeserver.domain.taskrun.clock import TaskClock
from claudeserver.domain.taskrun.context import TaskContext
from claudeserver.domain.taskrun.conversation import Conversation, Inbox
from claudeserver.domain.taskrun.errors import TaskFailure
from claudeserver.domain.taskrun.holds import ApprovalDesk
from claudeserver.domain.taskrun.journal import Counters, Journal
from claudeserver.domain.taskrun.review import review
from claudeserver.domain.taskrun.workbench import (
    RunnerFactory,
    agent_config,
    prepare,
    review_config,
)
from claudeserver.domain.taskrun.workspace import commit_work
from claudeserver.domain.testrun import TestRunError, detect_runner
from claudeserver.persistence import tasks
from claudeserver.persistence.storage import DiskReserve, is_storage_full, storage_advice
from claudeserver.settings import Settings
from claudeserver.vocabulary import Kind, TaskStatus

WATCH_SECONDS = 0.3
# Recorded on each task it runs, so a fleet of workers can be told apart.
WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"


class TaskRun:
    """`await TaskRun(task_id, settings=…, db=…).run()`. The agent (`agents`) is Claude Code
    and the test runner (`runners`) the project's own, unless a test passes stand-ins."""

    def __init__(
        self,
        task_id: str,
        *,
        settings: Settings,
        db: sessionmaker[DB],
        agents: AgentFactory = AgentSession,
        runners: RunnerFactory = detect_runner,
    ) -> None:
        self.task_id = task_id
        self.settings = settings
        self.db = db
        self.agents = agents
        self.runners = runners
        with db() as s:
            task = tasks.get_task(s, task_id=task_id)
            assert task is not None
            self.context = TaskContext.resolve(task, settings)
            self.journal = Journal(task_id, db, Counters.of(task))
        self.inbox = Inbox()
        self.clock = TaskClock(settings.task_timeout_seconds)  # runs from now: run() follows
        self.desk = ApprovalDesk(
            context=self.context, settings=settings, journal=self.journal, db=db, clock=self.clock
        )
        self.cancel_reason: str | None = None
        self.timed_out = False
        self.ended = False

    async def run(self) -> None:
        started = self.journal.move(
            TaskStatus.RUNNING, progress="Starting", error=None, summary=None, worker=WORKER_NAME
        )
        if not started:
            return
        work = asyncio.ensure_future(self._work())
        watcher = asyncio.ensure_future(self._watch(work))
        try:
            await work
        except asyncio.CancelledError:
            if self.timed_out:
                limit = self.settings.task_timeout_seconds
                self._end(TaskStatus.FAILED, f"Timed out after TASK_TIMEOUT_SECONDS={limit:g}")
            elif self.cancel_reason is None:
                # Shutdown: the task stays active and resumes at the next start.
                self.journal.progress("Interrupted by a server shutdown; resumes at the next start")
                raise
            else:
                self._end(TaskStatus.CANCELLED, f"Cancelled: {self.cancel_reason}")
        except (TaskFailure, AgentError, TestRunError) as exc:
            self._end(TaskStatus.FAILED, str(exc))
        except Exception as exc:
            if not is_storage_full(exc):
                self._end(TaskStatus.FAILED, f"Internal error: {type(exc).__name__}: {exc}")
                raise
            self._fail_for_space(exc)
        finally:
            watcher.cancel()
            work.cancel()
            if not self.ended:  # a shutdown, or a final write that failed
                kill_task_processes(self.task_id)
                self.journal.save()

    async def _work(self) -> None:
        context, settings, journal = self.context, self.settings, self.journal
        bench = await prepare(context, settings, journal, self.runners)
        conversation = Conversation(
            context=context, settings=settings, journal=journal, bench=bench,
            agents=self.agents, inbox=self.inbox, desk=self.desk,
        )  # fmt: skip
        summary = await conversation.run(agent_config(context, settings, bench, self.db))
        if context.review:
            await review(
                self.agents, review_config(context, settings, bench),
                description=context.description, workspace=bench.workspace,
                policy=bench.policy, journal=journal, answer=conversation.answer,
            )  # fmt: skip
        await commit_work(context, settings, journal, bench.workspace)
        await asyncio.to_thread(
            comments.settle, self.db, task_id=self.task_id, workspace=bench.workspace
        )
        # Only now, with the CLI stopped: whoever sees "completed" sees the work finished.
        journal.credentials_accepted()
        self._end(TaskStatus.COMPLETED, summary)

    async def _watch(self, work: asyncio.Future[None]) -> None:
        """Follow what others write about this task: a cancel, a person's messages.

        Through the database, so it works whichever process or machine the API runs on.
        """
        # A person's messages before their latest retry or follow-up belong to earlier
        # attempts (the resumed conversation has those it received). After a restart, the
        # current attempt's are delivered again: one cut short may not have reached it.
        seen = self.context.attempt_sequence
        while not work.done():
            await asyncio.sleep(WATCH_SECONDS)
            if self.clock.expired():
                self.timed_out = True
                kill_task_processes(self.task_id)
                work.cancel()
                return
            status, error = self.journal.status()
            messages = self.journal.messages_after(seen)
            if status == TaskStatus.CANCELLED.value:
                self.cancel_reason = error or "cancelled"
                # Killed at once: a graceful stop of the CLI can take seconds on a busy
                # machine, and a cancelled task's processes must not run on meanwhile.
                kill_task_processes(self.task_id)
                work.cancel()
                return
            for message in messages:
                seen = message.sequence
                # Only messages: a follow-up is the opening prompt's, a review comment waits
                # to be sent in a round of its own.
                if message.kind == Kind.MESSAGE.value:
                    await self.inbox.deliver(message.content)

    def _end(self, status: TaskStatus, summary: str) -> None:
        # Processes first: whoever sees the final status must find no process of the task
        # left, and the final figures (written with it).
        kill_task_processes(self.task_id)
        shutil.rmtree(self.context.home, ignore_errors=True)
        self.journal.end(status, summary)
        self.ended = True

    def _fail_for_space(self, exc: Exception) -> None:
        """Free the database's disk reserve so that the failure and its advice are stored.

        Should even that write fail, the task stays active and resumes at the next start.
        """
        url = self.settings.database_url
        DiskReserve.for_database(url).release()
        self._end(TaskStatus.FAILED, storage_advice(exc, url))
