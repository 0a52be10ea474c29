"""Every write about one task run, each step one transaction (a unit of work): the task's
history (interactions), its progress and status moves, and its counters, which the journal
keeps while the task runs and writes with the step that changes them."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.agent.events import (
    AgentEvent,
    AssistantText,
    SystemNotice,
    ToolCall,
    ToolOutcome,
    TurnResult,
)
from claudeserver.domain import credentials, spending
from claudeserver.domain.testrun import TestResult
from claudeserver.persistence import interactions, tasks, testcases, transactions
from claudeserver.persistence.models import ClaudeInteraction, Task, TestCase
from claudeserver.vocabulary import Kind, Role, TaskStatus

TOOL_OUTPUT_CHARS = 20_000  # of one tool result, in the history


@dataclass
class Counters:
    """The task's figures, as the run changes them (the row's columns of the same names)."""

    iterations: int
    pauses: int
    test_rounds: int
    cost_usd: float
    input_tokens: int
    output_tokens: int
    claude_session_id: str | None
    model: str | None  # the model the CLI reports it runs
    model_costs: dict[str, float] | None
    context_restarts: int
    round_durations: list[float] | None  # seconds, per test round

    @classmethod
    def of(cls, task: Task) -> Counters:
        return cls(**{f.name: getattr(task, f.name) for f in dataclasses.fields(cls)})


class Unit:
    """The writes of one step; they commit together when `Journal.unit` ends."""

    def __init__(self, db: DB, journal: Journal) -> None:
        self.db = db
        self._journal = journal
        self._task_id = journal.task_id

    def record(
        self, role: Role, kind: Kind | str, content: str, data: dict[str, Any] | None = None
    ) -> None:
        interactions.add_interaction(
            self.db, task_id=self._task_id, role=role, kind=kind, content=content, data=data
        )

    def move(self, to: TaskStatus, **fields: Any) -> bool:
        return tasks.transition(self.db, task_id=self._task_id, to=to, **fields)

    def progress(self, text: str) -> None:
        tasks.set_progress(self.db, task_id=self._task_id, progress=text)

    def update(self, **fields: Any) -> None:
        """Columns of the task that are not counters: its workspace, baseline, findings."""
        tasks.update_task(self.db, task_id=self._task_id, **fields)

    def counters(self) -> None:
        self.update(**dataclasses.asdict(self._journal.counters))

    def round_took(self, seconds: float) -> None:
        counters = self._journal.counters
        counters.round_durations = [*(counters.round_durations or []), seconds]
        self.counters()

    def tests(
        self,
        test_type: str,
        results: Sequence[TestResult],
        *,
        baseline_status: dict[str, str] | None = None,
        flaky: frozenset[str] = frozenset(),
    ) -> None:
        """The tests of this type are these now: each stored, those not among them dropped."""
        testcases.save_test_cases(
            self.db, task_id=self._task_id, test_type=test_type, results=results,
            baseline_status=baseline_status, flaky=flaky,
        )  # fmt: skip
        keep = {r.name for r in results}
        testcases.drop_test_cases(self.db, task_id=self._task_id, test_type=test_type, keep=keep)


class Journal:
    def __init__(self, task_id: str, db: sessionmaker[DB], counters: Counters) -> None:
        self.task_id = task_id
        self.counters = counters
        self._db = db
        # This run's spend counts against its budget.
        self._cost_at_start = counters.cost_usd
        # A CLI process reports what it has spent so far: each one counts from here.
        self._process_start = (counters.cost_usd, dict(counters.model_costs or {}))

    @contextlib.contextmanager
    def unit(self) -> Iterator[Unit]:
        with transactions.unit_of_work(self._db) as db:
            yield Unit(db, self)

    # -- steps of one write ----------------------------------------------------------

    def record(
        self, role: Role, kind: Kind | str, content: str, data: dict[str, Any] | None = None
    ) -> None:
        with self.unit() as w:
            w.record(role, kind, content, data)

    def move(self, to: TaskStatus, **fields: Any) -> bool:
        with self.unit() as w:
            return w.move(to, **fields)

    def progress(self, text: str) -> None:
        with self.unit() as w:
            w.progress(text)

    def save(self) -> None:
        with self.unit() as w:
            w.counters()

    def credentials_refused(self, message: str) -> None:
        with self.unit() as w:
            credentials.record_refusal(w.db, task_id=self.task_id, message=message)

    def credentials_accepted(self) -> None:
        with self.unit() as w:
            credentials.accepted(w.db)

    # -- counted steps ---------------------------------------------------------------

    def turn_started(self, prompt: str) -> int:
        """The human's prompt opens a turn; returns the turn's number."""
        self.counters.iterations += 1
        with self.unit() as w:
            w.record(Role.HUMAN, Kind.PROMPT, prompt)
            w.counters()
        return self.counters.iterations

    def paused(self) -> None:
        self.counters.pauses += 1
        with self.unit() as w:
            w.counters()
            w.move(TaskStatus.PAUSED, progress="Paused: the simulated human is reviewing")

    def intervened(self) -> None:
        """The human spent one of its interventions (they count as pauses)."""
        self.counters.pauses += 1
        self.save()

    def round_started(self) -> int:
        """A test round begins; returns its number."""
        self.counters.test_rounds += 1
        with self.unit() as w:
            w.counters()
            w.move(TaskStatus.TESTING, progress="Running the generated tests")
        return self.counters.test_rounds

    def context_restarted(self) -> None:
        """The conversation is left for a fresh one (its transcript stays the task's)."""
        counters = self.counters
        previous, counters.claude_session_id = counters.claude_session_id, None
        counters.context_restarts += 1
        with self.unit() as w:
            w.counters()
            w.record(
                Role.SYSTEM, Kind.CONTEXT_RESTART,
                "The conversation no longer fits the context window: continuing in a fresh one",
                {"previous_session_id": previous, "context_restarts": counters.context_restarts},
            )  # fmt: skip

    def end(self, status: TaskStatus, summary: str) -> None:
        """The final figures and the final status, together."""
        error = None if status is TaskStatus.COMPLETED else summary
        if status is TaskStatus.FAILED:
            summary = f"Failed: {summary}"
        with self.unit() as w:
            w.counters()
            w.move(status, summary=summary, error=error, progress=status.value.capitalize())

    # -- what the agent does ---------------------------------------------------------

    def process_started(self) -> None:
        self._process_start = (self.counters.cost_usd, dict(self.counters.model_costs or {}))

    def spent(self) -> float:
        """USD this run has spent so far."""
        return self.counters.cost_usd - self._cost_at_start

    def store(self, event: AgentEvent, *, main: bool = True) -> None:
        """An event of a turn, in the task's history (its result: `account`). `main=False`
        for a side conversation (the review): it never becomes the task's conversation."""
        with self.unit() as w:
            if isinstance(event, AssistantText):
                w.record(Role.ASSISTANT, Kind.TEXT, event.text, {"model": event.model})
            elif isinstance(event, ToolCall):
                data = {"id": event.tool_use_id, "input": event.input}
                w.record(Role.ASSISTANT, Kind.TOOL_USE, event.name, data)
            elif isinstance(event, ToolOutcome):
                kind = Kind.TOOL_ERROR if event.is_error else Kind.TOOL_RESULT
                content = event.content[:TOOL_OUTPUT_CHARS]
                w.record(Role.TOOL, kind, content, {"id": event.tool_use_id})
            elif isinstance(event, SystemNotice):
                self._notice(w, event, main=main)

    def _notice(self, w: Unit, event: SystemNotice, *, main: bool) -> None:
        if event.subtype == "api_retry":
            w.progress(_retry_progress(event.data))
        if event.subtype == "init" and main:
            self.counters.claude_session_id = event.data.get("session_id")
            self.counters.model = event.data.get("model") or self.counters.model
            w.counters()
        if event.subtype == "compact_boundary":
            w.record(Role.SYSTEM, Kind.COMPACTION, *_compaction(event.data))
            return
        # The CLI's "status" notices (compacting) are not the task's status changes.
        notice: Kind | str = Kind.CLI_STATUS if event.subtype == "status" else event.subtype
        w.record(Role.SYSTEM, notice, event.subtype, _compact(event.data))

    def account(self, result: TurnResult, *, main: bool = True) -> None:
        """A turn's result and what it cost, in the history, the counters, today's spend
        (`main=False`: a side conversation's, whose session is not the task's)."""
        counters = self.counters
        spent_before = counters.cost_usd
        process_cost, process_costs = self._process_start
        if main:
            counters.claude_session_id = result.session_id or counters.claude_session_id
        counters.cost_usd = process_cost + result.process_cost_usd
        costs = dict(process_costs)
        for name, cost in result.process_model_costs.items():
            costs[name] = costs.get(name, 0.0) + cost
        counters.model_costs = costs
        counters.input_tokens += result.input_tokens
        counters.output_tokens += result.output_tokens
        data: dict[str, Any] = {"subtype": result.subtype, "cost_usd": counters.cost_usd}
        if result.api_error_status:
            data["api_error_status"] = result.api_error_status
        text = result.text or "; ".join(result.errors)
        with self.unit() as w:
            spending.spend(w.db, counters.cost_usd - spent_before)
            w.record(Role.ASSISTANT, Kind.ERROR if result.is_error else Kind.RESULT, text, data)
            w.counters()

    # -- what others wrote -----------------------------------------------------------

    def status(self) -> tuple[str | None, str | None]:
        """The task's status and error, as they are in the database now."""
        with self._db() as s:
            return tasks.status_of(s, task_id=self.task_id)

    def messages_after(self, sequence: int) -> Sequence[ClaudeInteraction]:
        """A person's messages to the task, after `sequence`."""
        with self._db() as s:
            return interactions.interactions_after(
                s, task_id=self.task_id, after=sequence, limit=100, role=Role.USER
            )

    def last_result_text(self) -> str:
        with self._db() as s:
            return interactions.last_interaction_text(
                s, task_id=self.task_id, role=Role.ASSISTANT, kind=Kind.RESULT
            )

    def follow_up_request(self) -> str:
        with self._db() as s:
            return interactions.last_interaction_text(
                s, task_id=self.task_id, role=Role.USER, kind=Kind.FOLLOW_UP
            )

    def test_cases(self) -> list[TestCase]:
        with self._db() as s:
            task = tasks.get_task(s, task_id=self.task_id, with_details=True)
            return list(task.test_cases) if task else []


def _retry_progress(data: dict[str, Any]) -> str:
    status = data.get("error_status")
    what = "Claude API overloaded" if status in (529, 503) else f"Claude API error {status}"
    return f"{what}, retry {data.get('attempt')}/{data.get('max_retries')}"


def _compaction(data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Claude Code summarised the conversation to make room in the context window."""
    metadata = data.get("compact_metadata") or {}
    before, after = metadata.get("pre_tokens"), metadata.get("post_tokens")
    sizes = (
        f": {before:,} → {after:,} tokens"
        if isinstance(before, int) and isinstance(after, int)
        else ""
    )
    trigger = metadata.get("trigger") or "auto"
    keep = ("trigger", "pre_tokens", "post_tokens", "duration_ms")
    return (
        f"Claude Code compacted the conversation ({trigger}){sizes}",
        {k: metadata.get(k) for k in keep},
    )


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    """Init notices list every tool and plugin; keep what a reader of the task needs."""
    keep = (
        "session_id", "model", "cwd", "permissionMode", "attempt", "max_retries", "error",
        "status", "compact_result", "compact_error",
    )  # fmt: skip
    return {k: v for k, v in data.items() if k in keep}
