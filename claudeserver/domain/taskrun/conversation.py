"""The conversation with the agent: its turns, the simulated human's replies, pauses and
interventions, and the test gate after each answer, until every test passes or a limit
is reached; continued in a fresh conversation whenever one outgrows the context window."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from claudeserver.agent.events import AgentEvent, AssistantText, GateDecision, ToolCall, TurnResult
from claudeserver.agent.protocol import Agent, AgentConfig, AgentFactory
from claudeserver.domain import credentials, gate
from claudeserver.domain.handoff import MAX_CONTEXT_RESTARTS, context_full, hand_off_prompt
from claudeserver.domain.human import SimulatedHuman
from claudeserver.domain.taskrun.context import TaskContext
from claudeserver.domain.taskrun.errors import ContextFull, TaskFailure, describe_error
from claudeserver.domain.taskrun.holds import Answer, ApprovalDesk
from claudeserver.domain.taskrun.journal import Journal
from claudeserver.domain.taskrun.testgate import TestGate
from claudeserver.domain.taskrun.workbench import Workbench, within_cap
from claudeserver.domain.workspace import WorkspaceError
from claudeserver.domain.workspace import diff_stat as workspace_diff_stat
from claudeserver.settings import Settings
from claudeserver.vocabulary import Kind, Role, TaskStatus

IMPLEMENT, VALIDATE = "implement", "validate"  # what the agent's answers are for
HUMAN = "human"  # a session's `approvals`: a person answers the policy's asks


async def _pull(events: AsyncIterator[AgentEvent]) -> AgentEvent | None:
    """The next event, None at the end."""
    return await anext(events, None)


def from_user(message: str) -> str:
    return f"Message from the user (a real person supervising this task):\n{message}"


class Inbox:
    """A person's messages to the agent: into the running turn at once, else with the
    next prompt."""

    def __init__(self) -> None:
        self._waiting: list[str] = []
        self._turn: Agent | None = None  # the agent, while it is in a turn

    async def deliver(self, message: str) -> None:
        if self._turn is not None:
            await self._turn.send(from_user(message))
        else:
            self._waiting.append(message)

    @contextlib.contextmanager
    def turn(self, agent: Agent) -> Iterator[str]:
        """During one turn of `agent`; gives what waited, for the turn's prompt."""
        waiting, self._waiting = self._waiting, []
        self._turn = agent
        try:
            yield "".join(f"\n\n{from_user(m)}" for m in waiting)
        finally:
            self._turn = None


class Conversation:
    """A task's conversation with its agent: `run` returns the task's summary, or raises
    TaskFailure at a limit."""

    def __init__(
        self,
        *,
        context: TaskContext,
        settings: Settings,
        journal: Journal,
        bench: Workbench,
        agents: AgentFactory,
        inbox: Inbox,
        desk: ApprovalDesk,
    ) -> None:
        self.context = context
        self.settings = settings
        self.journal = journal
        self.bench = bench
        self.agents = agents
        self.inbox = inbox
        self.desk = desk
        # The permission policy, with the answers a person asked to remember added.
        self.policy = bench.policy
        self.human = SimulatedHuman(settings.human_seed)
        self.test_gate = TestGate(
            bench.tests, bench.project, bench.baseline, context.baseline_failures, journal
        )
        self.agent: Agent | None = None
        self.since_human = 0  # the agent's messages and tool calls since the human spoke
        self.fresh_conversations = 0

    async def run(self, config: AgentConfig) -> str:
        """Turns until every test passes, in a fresh conversation each time one outgrows
        the context window."""
        prompt, phase = self._opening(), IMPLEMENT
        while True:
            async with self.agents(config, self._gate, self.answer) as agent:
                self.agent = agent
                self.journal.process_started()
                try:
                    return await self._conversation(prompt, phase)
                except ContextFull as full:
                    phase, last_prompt = full.phase, full.prompt
            # The old CLI has stopped: a fresh one, with what is left of the budget.
            prompt = await self._hand_off(last_prompt)
            left = max(self.context.budget - self.journal.spent(), 0.0001)
            config = dataclasses.replace(config, resume=None, max_budget_usd=left)

    async def _conversation(self, prompt: str, phase: str) -> str:
        while True:
            result = await self._turn(prompt)
            await within_cap(self.bench.disk)
            if result.is_error and context_full(result):
                raise ContextFull(prompt=prompt, phase=phase)
            if result.is_error:
                prompt = await self._recover(result)
            elif phase == IMPLEMENT and self.human.hedges(result.text):
                prompt = self._intervene(self.human.encouragement())
            elif phase == IMPLEMENT:
                prompt, phase = self.human.tests_request(self.bench.tests.framework_hint), VALIDATE
            else:
                passed, text = await self.test_gate.validate()
                await within_cap(self.bench.disk)
                if passed:
                    return text
                prompt = text

    def _opening(self) -> str:
        request = self.journal.follow_up_request()
        description = self.context.description
        # The latest follow-up stays the work of every later attempt.
        if request:
            first = self.human.follow_up_prompt(description, request)
        else:
            first = self.human.first_prompt(description)
        if not self.context.resume or self.context.starts_follow_up:
            return first
        why = self.context.stopped_because or "the server was restarted while you were working"
        return (
            f"We are resuming this task (attempt {self.context.attempt}). "
            f"It stopped because: {why}.\n\n{first}"
        )

    # -- one agent turn --------------------------------------------------------------

    async def _turn(self, prompt: str) -> TurnResult:
        project = self.bench.project
        if not project.is_dir():
            raise TaskFailure(f"The project directory {project} was deleted during the task")
        limit = self.context.max_iterations
        if self.journal.counters.iterations >= limit:
            raise TaskFailure(
                f"Gave up: the agent used all MAX_ITERATIONS={limit} turns without all tests "
                f"passing{self.test_gate.failing_suffix()}"
            )
        number = self.journal.turn_started(prompt)
        self.since_human = 0
        assert self.agent is not None
        with self.inbox.turn(self.agent) as waiting:
            await self.agent.send(prompt + waiting)
            self.journal.progress(f"Task is running - turn {number}")
            events = aiter(self.agent.turn())
            while True:
                event = await self._next_event(events)
                if isinstance(event, TurnResult):
                    self.journal.account(event)
                    return event
                if isinstance(event, AssistantText | ToolCall):
                    self.since_human += 1
                self.journal.store(event)

    async def _next_event(self, events: AsyncIterator[AgentEvent]) -> AgentEvent:
        """The agent's next event. It is idle only while nobody holds it: the time a call
        waits for a person's approval does not count."""
        idle = self.settings.idle_timeout_seconds
        since = time.monotonic()
        step = asyncio.ensure_future(_pull(events))
        try:
            while True:
                quiet = time.monotonic() - max(since, self.desk.released_at)
                # While held, look again each second: the idle clock restarts at the release.
                left = min(idle, 1.0) if self.desk.holding else idle - quiet
                if left <= 0:
                    raise TaskFailure(
                        f"Idle timeout: no message from the agent for IDLE_TIMEOUT_SECONDS={idle:g}"
                    )
                done, _ = await asyncio.wait({step}, timeout=left)
                if done:
                    event = step.result()
                    if event is None:
                        raise TaskFailure("Claude Code ended the conversation without a result")
                    return event
        finally:
            step.cancel()

    # -- the simulated human ---------------------------------------------------------

    async def _gate(
        self, tool_name: str, tool_input: dict[str, Any], cwd: Path | None
    ) -> GateDecision:
        decision = await gate.check(tool_name, tool_input, self.policy, cwd=cwd)
        data: dict[str, Any] = {
            "tool": tool_name,
            "input": tool_input,
            "category": decision.category,
        }
        if decision.ask is not None:
            data["ask"] = decision.ask.question
            if self.context.approvals == HUMAN:
                answer = await self.desk.ask(tool_name, tool_input, decision)
                self._remember(answer)
                decision = dataclasses.replace(
                    decision, allowed=answer.allowed, reason=answer.reason
                )
                data |= {"approval_id": answer.approval_id, "decided_by": answer.decided_by}
        kind = Kind.ALLOW if decision.allowed else Kind.DENY
        self.journal.record(Role.PERMISSION, kind, decision.reason, data)
        if not decision.allowed:
            return GateDecision(False, self.human.denial_guidance(decision.reason))
        pauses_left = self.journal.counters.pauses < self.settings.max_pauses
        if self.human.wants_pause(self.since_human) and pauses_left:
            await self._pause(self.human.continuation())
        return GateDecision(True, decision.reason)

    def _remember(self, answer: Answer) -> None:
        """A person's answer with `remember` holds for the rest of the run too (the API
        added it to the session's policy, for the tasks after this one)."""
        if not answer.remembered:
            return
        key = "approved_rules" if answer.allowed else "deny_rules"
        rules = getattr(self.policy, key) + answer.remembered
        self.policy = dataclasses.replace(self.policy, **{key: rules})

    async def _pause(self, message: str) -> None:
        """Hold the agent (it waits on this tool call) while the human thinks, then nudge it."""
        self.journal.paused()
        await asyncio.sleep(self.settings.human_think_seconds)
        self.journal.record(Role.HUMAN, Kind.CONTINUATION, message)
        self.since_human = 0
        assert self.agent is not None
        await self.agent.send(message)
        turn = self.journal.counters.iterations
        self.journal.move(TaskStatus.RUNNING, progress=f"Task is running - turn {turn}")

    def _intervene(self, message: str) -> str:
        """Spend one of the human's interventions, or fail when none are left."""
        limit = self.settings.max_pauses
        if self.journal.counters.pauses >= limit:
            raise TaskFailure(
                f"Gave up: the agent needed more than MAX_PAUSES={limit} "
                f"interventions{self.test_gate.failing_suffix()}"
            )
        self.journal.intervened()
        return message

    async def _recover(self, result: TurnResult) -> str:
        error = describe_error(result, cli_command=self.settings.claude_cli_command)
        if "budget" in result.subtype:
            raise TaskFailure(
                f"Budget exhausted: this attempt spent ${self.journal.spent():.4f} of "
                f"{self.context.budget_source}={self.context.budget:g} USD"
            )
        text = result.text or "; ".join(result.errors)
        if credentials.is_refusal(result.api_error_status, text):
            # Retrying or nudging the agent cannot help: fail now, saying what to do.
            self.journal.credentials_refused(text)
            raise TaskFailure(error)
        try:
            message = self._intervene(self.human.error_guidance(error))
        except TaskFailure as exc:
            raise TaskFailure(f"{error} ({exc})") from None
        await asyncio.sleep(self.settings.human_think_seconds * self.journal.counters.pauses)
        return message

    async def answer(self, questions: list[dict[str, Any]]) -> dict[str, str]:
        answers = self.human.answer(questions)
        content = "\n".join(f"{q}: {a}" for q, a in answers.items())
        self.journal.record(Role.HUMAN, Kind.ANSWER, content)
        return answers

    async def _hand_off(self, last_prompt: str) -> str:
        """Start counting a fresh conversation; its first message says where the work stands."""
        if self.fresh_conversations >= MAX_CONTEXT_RESTARTS:
            raise TaskFailure(
                "The conversation outgrew the model's context window "
                f"{MAX_CONTEXT_RESTARTS + 1} times in this attempt"
                f"{self.test_gate.failing_suffix()}"
            )
        self.fresh_conversations += 1
        self.journal.context_restarted()
        try:
            changes = await asyncio.to_thread(workspace_diff_stat, self.bench.workspace)
        except WorkspaceError:
            changes = []
        request = self.journal.follow_up_request()
        task = f"## Task\n{self.context.description}" + (
            f"\n\n## Follow-up\n{request}" if request else ""
        )
        return hand_off_prompt(
            task=task, changes=changes, failing=self.test_gate.failing()[0],
            summary=self.journal.last_result_text(), last_prompt=last_prompt,
        )  # fmt: skip
