"""Holding the agent at a grey-zone tool call until a person answers it (a session with
`approvals: "human"`): the task shows `paused`, "Waiting for approval: …", and the
answer, written by the API in whichever process, is read from the database. Without an
answer in APPROVAL_TIMEOUT_SECONDS the simulated human answers as the policy does
unattended, and says so."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.domain import approvals, webhooks
from claudeserver.domain.taskrun.clock import TaskClock
from claudeserver.domain.taskrun.context import TaskContext
from claudeserver.domain.taskrun.journal import Journal
from claudeserver.persistence import approvals as store
from claudeserver.policy import Decision
from claudeserver.redact import env_secrets, redact
from claudeserver.settings import Settings
from claudeserver.vocabulary import Kind, Role, TaskStatus

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25  # how soon an answer given through the API reaches the agent
SUMMARY_CHARS = 2000
PROGRESS_CHARS = 300
STOPPED = "the task stopped before it was answered"


@dataclass(frozen=True)
class Answer:
    allowed: bool
    reason: str  # for the permission record and the agent
    approval_id: str
    decided_by: str | None
    remembered: tuple[str, ...] = ()  # rules to add to the running policy


def summary(tool: str, tool_input: Mapping[str, Any]) -> str:
    """What the call does, in a line a person can judge (its secrets redacted)."""
    for key in ("command", "url", "file_path", "notebook_path", "path", "query", "host"):
        value = tool_input.get(key)
        if isinstance(value, str):
            return redact(value[:SUMMARY_CHARS], env_secrets())
    return redact(json.dumps(dict(tool_input), default=str)[:SUMMARY_CHARS], env_secrets())


class ApprovalDesk:
    """`await desk.ask(tool, input, decision)` for a call whose decision asks."""

    def __init__(
        self, *, context: TaskContext, settings: Settings, journal: Journal, db: sessionmaker[DB],
        clock: TaskClock,
    ) -> None:  # fmt: skip
        self.context = context
        self.clock = clock
        self.settings = settings
        self.journal = journal
        self._db = db
        self.holding = 0  # calls waiting for an answer now
        self.released_at = 0.0  # time.monotonic() when the last hold ended
        self._deliveries: set[asyncio.Task[None]] = set()

    async def ask(self, tool: str, tool_input: Mapping[str, Any], decision: Decision) -> Answer:
        assert decision.ask is not None
        approval_id = self._open(tool, tool_input, decision)
        self._hold(decision.ask.question)
        try:
            self._announce(approval_id)
            return await self._wait(approval_id, decision)
        finally:
            self._release(approval_id)

    def _open(self, tool: str, tool_input: Mapping[str, Any], decision: Decision) -> str:
        assert decision.ask is not None
        ask = decision.ask
        secrets = env_secrets()
        # A rule whose text held a secret would be stored redacted and name nothing.
        rules = [r for r in ask.rules if redact(r, secrets) == r]
        unattended = "allow" if decision.allowed else "deny"
        with self.journal.unit() as w:
            approval = store.create(
                w.db, task_id=self.context.task_id, session_id=self.context.session_id,
                tool=tool, input_summary=summary(tool, tool_input), category=ask.category,
                question=redact(ask.question, secrets), unattended=unattended,
                rules=rules if len(rules) == len(ask.rules) else [],
            )  # fmt: skip
            data = {
                "approval_id": approval.id, "tool": tool, "input": dict(tool_input),
                "category": ask.category, "unattended": unattended,
            }  # fmt: skip
            w.record(
                Role.PERMISSION,
                Kind.APPROVAL_REQUEST,
                f"Waiting for approval: {ask.question}",
                data,
            )
            return approval.id

    def _hold(self, question: str) -> None:
        self.holding += 1
        if self.holding == 1:
            self.clock.hold()
            progress = f"Waiting for approval: {question}"[:PROGRESS_CHARS]
            self.journal.move(TaskStatus.PAUSED, progress=progress)

    def _release(self, approval_id: str) -> None:
        """The answer is in (or the wait was cancelled: then nobody answers any more)."""
        with self._db() as db:
            if store.decide(
                db, approval_id=approval_id, status=store.EXPIRED, decided_by=None, reason=STOPPED
            ):
                expired = approvals.get(db, approval_id)
                approvals.record(db, expired, Role.SYSTEM, f"Approval expired: {STOPPED}")
                db.commit()
        self.holding -= 1
        if self.holding == 0:
            self.clock.release()
            self.released_at = time.monotonic()
            turn = self.journal.counters.iterations
            self.journal.move(TaskStatus.RUNNING, progress=f"Task is running - turn {turn}")

    def _announce(self, approval_id: str) -> None:
        """The task's webhook hears that a call waits (in the background: the agent's wait
        must not depend on the receiver)."""

        async def deliver() -> None:
            settings = self.settings
            try:
                await webhooks.deliver(
                    self._db, self.context.task_id, secret=settings.webhook_secret,
                    attempts=settings.webhook_attempts, base_delay=settings.webhook_retry_seconds,
                    public_url=settings.dashboard_url, approval_id=approval_id,
                )  # fmt: skip
            except Exception:
                log.exception("approval webhook for task %s failed", self.context.task_id)

        delivery = asyncio.ensure_future(deliver())
        self._deliveries.add(delivery)
        delivery.add_done_callback(self._deliveries.discard)

    async def _wait(self, approval_id: str, decision: Decision) -> Answer:
        deadline = time.monotonic() + self.settings.approval_timeout_seconds
        while True:
            with self._db() as db:
                state = store.status_of(db, approval_id=approval_id)
            if state is not None and state[0] != store.PENDING:
                return self._answer(approval_id, decision, *state)
            if time.monotonic() >= deadline:
                self._time_out(approval_id, decision)
                continue  # read what was stored: the timeout's answer, or one just before it
            await asyncio.sleep(POLL_SECONDS)

    def _time_out(self, approval_id: str, decision: Decision) -> None:
        limit = self.settings.approval_timeout_seconds
        verb = "allowed" if decision.allowed else "denied"
        said = (
            f"No answer within APPROVAL_TIMEOUT_SECONDS={limit:g}: the simulated human {verb} "
            "it, as the policy does unattended"
        )
        status = store.ALLOWED if decision.allowed else store.DENIED
        with self.journal.unit() as w:
            if store.decide(
                w.db, approval_id=approval_id, status=status,
                decided_by=approvals.SIMULATED_HUMAN, reason=said,
            ):  # fmt: skip
                approvals.record(w.db, approvals.get(w.db, approval_id), Role.HUMAN, said)

    def _answer(
        self, approval_id: str, decision: Decision, status: str, reason: str | None,
        remember: bool,
    ) -> Answer:  # fmt: skip
        with self._db() as db:
            approval = approvals.get(db, approval_id)
            by, rules = approval.decided_by, tuple(approval.rules) if remember else ()
        if by == approvals.SIMULATED_HUMAN:
            return Answer(decision.allowed, f"{decision.reason} ({reason})", approval_id, by)
        said = f": {reason}" if reason else ""
        if status == store.ALLOWED:
            return Answer(True, f"allowed by the user{said}", approval_id, by, rules)
        if status == store.DENIED:
            return Answer(False, f"denied by the user{said}", approval_id, by, rules)
        return Answer(False, f"denied: the approval expired ({reason})", approval_id, by)
