"""One task from start to end: baseline tests, agent turns, the human, the validation loop."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.agent import (
    AgentConfig,
    AgentError,
    AgentSession,
    AssistantText,
    GateDecision,
    SystemNotice,
    ToolCall,
    ToolOutcome,
    TurnResult,
)
from claudeserver.domain import gate
from claudeserver.domain.human import MAX_TESTS, MIN_TESTS, SimulatedHuman
from claudeserver.domain.policy import PolicyConfig
from claudeserver.domain.status import TaskStatus
from claudeserver.domain.testrun import PytestRunner, TestFileSnapshot, TestResult, TestRunError
from claudeserver.persistence import repository as repo
from claudeserver.settings import Settings


class TaskFailure(Exception):
    """Ends the task as failed; the message is the summary a user reads."""


@dataclass
class Verdict:
    """What the validation round concluded and, unless done, what to tell the agent."""

    done: bool
    prompt: str = ""


class TaskRun:
    def __init__(self, task_id: str, *, settings: Settings, db: sessionmaker[DB]) -> None:
        self.task_id = task_id
        self.settings = settings
        self.db = db
        self.human = SimulatedHuman(settings.human_seed)
        self.iterations = 0
        self.pauses = 0
        self.test_rounds = 0
        self.since_human = 0
        self.cost_usd = 0.0
        self.tokens = [0, 0]
        self.agent: AgentSession | None = None
        with db() as s:
            task = repo.get_task(s, task_id=task_id)
            assert task is not None
            self.description = task.description
            self.project = Path(task.session.project_path)
            self.claude_session_id = task.claude_session_id
        self.tests = PytestRunner(self.project, timeout=settings.test_timeout_seconds)

    # -- lifecycle -------------------------------------------------------------------

    async def run(self) -> None:
        if not self._move(TaskStatus.RUNNING, progress="Starting"):
            return
        try:
            await asyncio.wait_for(self._work(), self.settings.task_timeout_seconds)
        except asyncio.TimeoutError:
            self._fail(
                f"Timed out after TASK_TIMEOUT_SECONDS={self.settings.task_timeout_seconds:g}"
            )
        except (TaskFailure, AgentError, TestRunError) as exc:
            self._fail(str(exc))
        except Exception as exc:
            self._fail(f"Internal error: {type(exc).__name__}: {exc}")
            raise
        finally:
            self._save_counters()

    async def _work(self) -> None:
        if not self.project.is_dir():
            raise TaskFailure(f"The project directory {self.project} does not exist any more")
        self._progress("Running the project's regression tests (baseline)")
        self.start_snapshot = TestFileSnapshot.take(self.project)
        baseline = await self.tests.run(self.tests.regression_targets())
        self.regression_names = {r.name for r in baseline}
        self._save_results("regression", baseline)
        config = AgentConfig(
            cwd=self.project,
            cli_path=self.settings.claude_cli_command,
            model=self.settings.claude_model,
            resume=self.claude_session_id,
        )
        async with AgentSession(config, self._gate, self._answer) as agent:
            self.agent = agent
            await self._conversation()

    async def _conversation(self) -> None:
        prompt, phase = self.human.first_prompt(self.description), "implement"
        while True:
            result = await self._turn(prompt)
            if result.is_error:
                prompt = await self._recover(result)
                continue
            if phase == "implement":
                if self.human.hedges(result.text):
                    prompt = self._intervene(self.human.encouragement())
                    continue
                prompt, phase = self.human.tests_request(), "validate"
                continue
            verdict = await self._validate()
            if verdict.done:
                return
            prompt = verdict.prompt

    # -- one agent turn --------------------------------------------------------------

    async def _turn(self, prompt: str) -> TurnResult:
        if self.iterations >= self.settings.max_iterations:
            raise TaskFailure(
                f"Gave up: the agent used all MAX_ITERATIONS={self.settings.max_iterations} "
                f"turns without all tests passing{self._failing_suffix()}"
            )
        self.iterations += 1
        self._record("human", "prompt", prompt)
        self.since_human = 0
        assert self.agent is not None
        await self.agent.send(prompt)
        self._progress(f"Task is running - turn {self.iterations}")
        async for event in self.agent.turn():
            if isinstance(event, TurnResult):
                self._account(event)
                return event
            self._store(event)
        raise TaskFailure("Claude Code ended the conversation without a result")

    def _store(self, event: Any) -> None:
        if isinstance(event, AssistantText):
            self.since_human += 1
            self._record("assistant", "text", event.text, {"model": event.model})
        elif isinstance(event, ToolCall):
            self.since_human += 1
            self._record(
                "assistant", "tool_use", event.name, {"id": event.tool_use_id, "input": event.input}
            )
        elif isinstance(event, ToolOutcome):
            kind = "tool_error" if event.is_error else "tool_result"
            self._record("tool", kind, event.content[:20_000], {"id": event.tool_use_id})
        elif isinstance(event, SystemNotice):
            self._notice(event)

    def _notice(self, notice: SystemNotice) -> None:
        if notice.subtype == "init":
            self.claude_session_id = notice.data.get("session_id") or self.claude_session_id
            with self.db() as s:
                repo.update_task(
                    s,
                    task_id=self.task_id,
                    claude_session_id=self.claude_session_id,
                    model=notice.data.get("model"),
                )
        self._record("system", notice.subtype, notice.subtype, _compact(notice.data))

    def _account(self, result: TurnResult) -> None:
        self.claude_session_id = result.session_id or self.claude_session_id
        self.cost_usd += result.cost_usd
        self.tokens[0] += result.input_tokens
        self.tokens[1] += result.output_tokens
        kind = "error" if result.is_error else "result"
        self._record(
            "assistant",
            kind,
            result.text or "; ".join(result.errors),
            {
                "subtype": result.subtype,
                "cost_usd": result.cost_usd,
                "api_error_status": result.api_error_status,
            },
        )
        self._save_counters()

    # -- the simulated human ---------------------------------------------------------

    async def _gate(self, tool_name: str, tool_input: dict[str, Any]) -> GateDecision:
        decision = await gate.check(tool_name, tool_input, self._policy())
        self._record(
            "permission",
            "allow" if decision.allowed else "deny",
            decision.reason,
            {"tool": tool_name, "input": tool_input, "category": decision.category},
        )
        if not decision.allowed:
            return GateDecision(False, self.human.denial_guidance(decision.reason))
        if self.human.wants_pause(self.since_human) and self.pauses < self.settings.max_pauses:
            await self._pause(self.human.continuation())
        return GateDecision(True, decision.reason)

    async def _pause(self, message: str) -> None:
        """Hold the agent (it waits on this tool call) while the human thinks, then nudge it."""
        self.pauses += 1
        self._move(TaskStatus.PAUSED, progress="Paused: the simulated human is reviewing")
        await asyncio.sleep(self.settings.human_think_seconds)
        self._record("human", "continuation", message)
        self.since_human = 0
        assert self.agent is not None
        await self.agent.send(message)
        self._move(TaskStatus.RUNNING, progress=f"Task is running - turn {self.iterations}")

    def _intervene(self, message: str) -> str:
        """Spend one of the human's interventions, or fail when none are left."""
        if self.pauses >= self.settings.max_pauses:
            raise TaskFailure(
                f"Gave up: the agent needed more than MAX_PAUSES={self.settings.max_pauses} "
                f"interventions{self._failing_suffix()}"
            )
        self.pauses += 1
        return message

    async def _recover(self, result: TurnResult) -> str:
        error = describe_error(result)
        if result.subtype == "error_max_budget_usd":
            raise TaskFailure(f"Budget exhausted: {error}")
        try:
            message = self._intervene(self.human.error_guidance(error))
        except TaskFailure as exc:
            raise TaskFailure(f"{error} ({exc})") from None
        await asyncio.sleep(self.settings.human_think_seconds * self.pauses)
        return message

    async def _answer(self, questions: list[dict[str, Any]]) -> dict[str, str]:
        answers = self.human.answer(questions)
        self._record("human", "answer", "\n".join(f"{q}: {a}" for q, a in answers.items()))
        return answers

    # -- validation ------------------------------------------------------------------

    async def _validate(self) -> Verdict:
        self.test_rounds += 1
        self._move(TaskStatus.TESTING, progress="Running generated and regression tests")
        generated_files = TestFileSnapshot.take(self.project).changed_since(self.start_snapshot)
        targets = sorted({*self.tests.regression_targets(), *generated_files})
        results = await self.tests.run(targets)
        generated = [r for r in results if r.file_path in generated_files or r.name in generated_files]
        regression = [r for r in results if r not in generated]
        regression += self._missing_regressions(regression)
        self._save_results("regression", regression)
        self._save_results("generated", generated)
        if not MIN_TESTS <= len(generated) <= MAX_TESTS:
            self._move(TaskStatus.RUNNING, progress="Asking the agent to adjust its tests")
            return Verdict(False, self.human.test_count_fix(len(generated)))
        failures = [r for r in generated + regression if r.status in ("failed", "error")]
        if not failures:
            self._complete(len(generated), len(regression))
            return Verdict(True)
        self._move(TaskStatus.RUNNING, progress=f"{len(failures)} test(s) failing; fixing")
        return Verdict(False, self.human.failure_feedback(failures))

    def _missing_regressions(self, seen: list[TestResult]) -> list[TestResult]:
        names = {r.name for r in seen}
        return [
            TestResult(name, name.split("::")[0], "failed", "regression test no longer exists", None)
            for name in sorted(self.regression_names - names)
        ]

    def _save_results(self, test_type: str, results: list[TestResult]) -> None:
        with self.db() as s:
            repo.save_test_cases(s, task_id=self.task_id, test_type=test_type, results=results)
            repo.drop_test_cases(
                s, task_id=self.task_id, test_type=test_type, keep={r.name for r in results}
            )
        for result in results:
            self._record(
                "test",
                "test_result",
                f"{result.status}: {result.name}",
                {"type": test_type, "status": result.status, "duration": result.duration},
            )

    # -- bookkeeping -----------------------------------------------------------------

    def _policy(self) -> PolicyConfig:
        protected = frozenset(self.project / p for p in self.start_snapshot.digests)
        return PolicyConfig(project_dir=self.project.resolve(), protected_paths=protected)

    def _complete(self, generated: int, regression: int) -> None:
        last = self._last_agent_text()
        summary = f"Completed: all {generated + regression} tests passed ({generated} generated, {regression} regression)."
        if last:
            summary += f"\n\n{last[:2000]}"
        self._move(TaskStatus.COMPLETED, summary=summary, progress="Done")

    def _fail(self, message: str) -> None:
        self._move(TaskStatus.FAILED, summary=f"Failed: {message}", error=message, progress="Failed")

    def _failing_suffix(self) -> str:
        with self.db() as s:
            task = repo.get_task(s, task_id=self.task_id, with_details=True)
            failing = [t.name for t in task.test_cases if t.status in ("failed", "error")] if task else []
        return f"; failing tests: {', '.join(failing)}" if failing else ""

    def _last_agent_text(self) -> str:
        with self.db() as s:
            return repo.last_interaction_text(s, task_id=self.task_id, role="assistant", kind="result")

    def _move(self, to: TaskStatus, **fields: Any) -> bool:
        with self.db() as s:
            return repo.transition(s, task_id=self.task_id, to=to, **fields)

    def _progress(self, text: str) -> None:
        with self.db() as s:
            repo.update_task(s, task_id=self.task_id, progress=text)

    def _record(self, role: str, kind: str, content: str, data: dict[str, Any] | None = None) -> None:
        with self.db() as s:
            repo.add_interaction(s, task_id=self.task_id, role=role, kind=kind, content=content, data=data)

    def _save_counters(self) -> None:
        with self.db() as s:
            repo.update_task(
                s,
                task_id=self.task_id,
                iterations=self.iterations,
                pauses=self.pauses,
                test_rounds=self.test_rounds,
                cost_usd=self.cost_usd,
                input_tokens=self.tokens[0],
                output_tokens=self.tokens[1],
                claude_session_id=self.claude_session_id,
            )


def describe_error(result: TurnResult) -> str:
    text = result.text or "; ".join(result.errors) or result.subtype
    status = result.api_error_status
    if status in (529, 503) or "overloaded" in text.lower():
        return f"Claude API overloaded (HTTP {status or 529}): {text}"
    if status:
        return f"Claude API error (HTTP {status}): {text}"
    return f"Claude Code reported an error: {text}"


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    """Init notices list every tool and plugin; keep what a reader of the task needs."""
    keep = ("session_id", "model", "cwd", "permissionMode", "attempt", "max_retries", "error")
    return {k: v for k, v in data.items() if k in keep}



