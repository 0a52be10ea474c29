"""The task loop driven by a scripted agent (our Agent protocol) and a stub test runner
(our TestRunner protocol): the human's rhythm, the fix loop and the limits, on a real
database, without the CLI or a model. tests/integration runs the same loop on the CLI."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from claudeserver.agent.events import (
    AgentEvent,
    AssistantText,
    SystemNotice,
    ToolCall,
    ToolOutcome,
    TurnResult,
)
from claudeserver.agent.protocol import AgentConfig, Answerer, Gate
from claudeserver.domain import credentials
from claudeserver.domain.confinement import Confinement
from claudeserver.domain.service_bridge import Service
from claudeserver.domain.taskrun import TaskRun
from claudeserver.domain.taskrun.workbench import RunnerFactory
from claudeserver.domain.testrun import RunContext, TestResult
from claudeserver.persistence import interactions, sessions, tasks
from claudeserver.persistence.models import ClaudeInteraction, Task
from claudeserver.settings import Settings
from claudeserver.vocabulary import Kind

# The one test of the `project` fixture, as the stub reports it.
EXISTING = TestResult(
    "tests/test_existing.py::test_existing", "tests/test_existing.py", "passed", None, 0.01
)


@dataclass
class Reply:
    """One turn of the scripted agent: files it writes, tool calls, then its answer."""

    text: str = "Done."
    files: dict[str, str] = field(default_factory=dict)
    tools: int = 0  # Read calls, each put to the gate before it "runs"
    error: str | None = None  # the turn fails with this subtype
    error_text: str = ""
    cost: float = 0.01  # what the CLI process has spent by the end of the turn
    stall: float = 0  # seconds the turn thinks before answering


class ScriptedAgent:
    """Our `Agent`, playing `Reply`s in order: what the gate says happens, like the CLI."""

    def __init__(self, agents: ScriptedAgents, config: AgentConfig, gate: Gate) -> None:
        self.agents = agents
        self.config = config
        self.gate = gate

    async def __aenter__(self) -> ScriptedAgent:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        return None

    async def send(self, text: str) -> None:
        self.agents.received.append(text)

    async def turn(self) -> AsyncIterator[AgentEvent]:
        reply = next(self.agents.script)
        project = self.config.cwd
        for name, content in reply.files.items():
            (project / name).write_text(content)
        yield SystemNotice("init", {"session_id": "conversation-1", "model": "scripted"})
        for n in range(reply.tools):
            call = ToolCall(f"call-{n}", "Read", {"file_path": str(project / "app.py")})
            yield call
            decision = await self.gate(call.name, call.input, None)
            yield ToolOutcome(call.tool_use_id, "app.py's text", not decision.allowed)
        await asyncio.sleep(reply.stall)
        yield AssistantText(reply.text, "scripted")
        yield TurnResult(
            is_error=reply.error is not None, subtype=reply.error or "success",
            text="" if reply.error else reply.text, session_id="conversation-1",
            process_cost_usd=reply.cost, process_model_costs={"scripted": reply.cost},
            input_tokens=10, output_tokens=5, errors=(reply.error_text,) if reply.error else (),
        )  # fmt: skip


class ScriptedAgents:
    """The agent factory: each conversation plays on from the same script."""

    def __init__(self, *replies: Reply, then: Reply | None = None) -> None:
        self.script: Iterator[Reply] = itertools.chain(
            replies, itertools.repeat(then) if then else ()
        )
        self.received: list[str] = []  # every message sent to the agent, in order

    def __call__(self, config: AgentConfig, gate: Gate, _answer: Answerer) -> ScriptedAgent:
        return ScriptedAgent(self, config, gate)


class StubRunner:
    """Our `TestRunner`, running nothing: the project's one test passes; each generated
    test file holds two tests, which pass once app.py says "fixed"."""

    name = "stub"
    test_file_patterns: tuple[str, ...] = ("test_*.py",)
    framework_hint = "stub tests in test_*.py files"

    def __init__(
        self, ctx: RunContext, *, test_command: str | None = None, preferred: str | None = None
    ) -> None:
        self.project = ctx.project

    def regression_targets(self) -> list[str]:
        return ["tests"]

    async def run(self, targets: list[str]) -> list[TestResult]:
        fixed = (self.project / "app.py").read_text() == "fixed"
        results = [EXISTING] if "tests" in targets else []
        for target in (t for t in targets if t.startswith("test_")):
            for n in (1, 2):
                status, output = ("passed", None) if fixed else ("failed", "assert broken")
                results.append(TestResult(f"{target}::test_{n}", target, status, output, 0.01))
        return results

    async def rerun(self, results: list[TestResult]) -> list[TestResult]:
        return results


IMPLEMENT = Reply("Implemented app.py.", files={"app.py": "broken"}, tools=1)
WRITE_TESTS = Reply("Wrote tests.", files={"test_feature.py": "tests"})


def run_task(
    settings: Settings,
    db: sessionmaker[Session],
    project: Path,
    agents: ScriptedAgents,
    runners: RunnerFactory = StubRunner,
    task_options: dict[str, Any] | None = None,
    **session_options: Any,
) -> tuple[Task, list[ClaudeInteraction]]:
    (project / "app.py").write_text("")
    with db() as s:
        session = sessions.create_session(
            s, project_path=str(project), isolation="none", base_branch=None, **session_options
        )
        task_id = tasks.create_task(
            s, session_id=session.id, description="Make app.py work", **(task_options or {})
        ).id
    run = TaskRun(task_id, settings=settings, db=db, agents=agents, runners=runners)
    asyncio.run(run.run())
    with db() as s:
        task = tasks.get_task(s, task_id=task_id)
        assert task is not None
        return task, list(
            interactions.interactions_after(s, task_id=task_id, after=0, limit=10_000)
        )


def said(events: list[ClaudeInteraction], kind: str) -> list[str]:
    return [e.content for e in events if e.kind == kind]


def test_failing_tests_go_back_to_the_agent_until_they_pass(
    quick: Settings, db: sessionmaker[Session], project: Path
) -> None:
    agents = ScriptedAgents(IMPLEMENT, WRITE_TESTS, Reply("Fixed.", files={"app.py": "fixed"}))
    task, events = run_task(quick, db, project, agents)

    assert task.status == "completed", task.summary
    assert (task.iterations, task.test_rounds, task.pauses) == (3, 2, 0)
    assert agents.received[1].startswith("Thanks. Now write tests")
    assert "Some tests failed (2)" in agents.received[2]
    assert "test_feature.py::test_1" in agents.received[2]
    # A suite this fast runs with the agent's tests in one go every round.
    assert said(events, "round") == [
        "Round 1 (generated and regression tests): 2 failing (0.0 s)",
        "Round 2 (generated and regression tests): 0 failing (0.0 s)",
    ]
    assert task.summary is not None and "Fixed." in task.summary
    assert task.cost_usd == pytest.approx(0.01)  # one conversation: its process's total
    assert task.claude_session_id == "conversation-1" and task.model == "scripted"
    assert len(task.round_durations or []) == 2


def test_the_human_pauses_the_agent_every_three_to_five_steps(
    quick: Settings, db: sessionmaker[Session], project: Path
) -> None:
    busy = Reply("Implemented app.py.", files={"app.py": "fixed"}, tools=12)
    agents = ScriptedAgents(busy, WRITE_TESTS)
    task, events = run_task(quick, db, project, agents)

    assert task.status == "completed", task.summary
    continuations = said(events, "continuation")
    assert len(continuations) >= 2 and task.pauses == len(continuations)
    assert agents.received[1 : 1 + len(continuations)] == continuations  # during the turn
    steps, gaps = 0, []
    for event in events:
        if event.role == "human":
            gaps.append(steps)
            steps = 0
        elif event.role == "assistant" and event.kind in ("text", "tool_use"):
            steps += 1
    pauses = gaps[1 : 1 + len(continuations)]  # after the opening prompt's
    assert all(3 <= gap <= 5 for gap in pauses), pauses
    statuses = said(events, "status")
    assert statuses[statuses.index("paused") + 1] == "running"


def test_the_task_fails_when_the_turns_run_out(
    quick: Settings, db: sessionmaker[Session], project: Path
) -> None:
    quick.max_iterations = 4
    agents = ScriptedAgents(IMPLEMENT, WRITE_TESTS, then=Reply("Tried again."))
    task, _ = run_task(quick, db, project, agents)

    assert task.status == "failed" and task.iterations == 4 and task.test_rounds == 3
    assert task.summary == (
        "Failed: Gave up: the agent used all MAX_ITERATIONS=4 turns without all tests "
        "passing; failing tests: test_feature.py::test_1, test_feature.py::test_2"
    )


def test_the_task_fails_when_the_agent_keeps_asking_instead_of_finishing(
    quick: Settings, db: sessionmaker[Session], project: Path
) -> None:
    quick.max_pauses = 2
    agents = ScriptedAgents(then=Reply("Should I go on?"))
    task, events = run_task(quick, db, project, agents)

    assert task.status == "failed" and (task.iterations, task.pauses) == (3, 2)
    assert task.error == "Gave up: the agent needed more than MAX_PAUSES=2 interventions"
    encouragements = [m for m in agents.received if "without waiting for confirmation" in m]
    assert len(encouragements) == 2 and said(events, "prompt")[1:] == encouragements


def test_a_spent_budget_ends_the_task_with_what_it_cost(
    quick: Settings, db: sessionmaker[Session], project: Path
) -> None:
    quick.max_budget_usd = 0.5
    spent = Reply(error="error_max_budget_usd", cost=0.5)
    task, events = run_task(quick, db, project, ScriptedAgents(spent))

    assert task.status == "failed" and task.iterations == 1
    assert task.error == "Budget exhausted: this attempt spent $0.5000 of MAX_BUDGET_USD=0.5 USD"
    assert task.cost_usd == pytest.approx(0.5) and said(events, "error")


def test_the_task_times_out_while_the_agent_works(
    quick: Settings, db: sessionmaker[Session], project: Path
) -> None:
    quick.task_timeout_seconds = 1
    task, _ = run_task(quick, db, project, ScriptedAgents(Reply(stall=60)))

    assert task.status == "failed" and task.error == "Timed out after TASK_TIMEOUT_SECONDS=1"


def test_time_waiting_for_a_person_does_not_count_toward_the_task_timeout(
    quick: Settings, db: sessionmaker[Session], project: Path
) -> None:
    # The one held call waits longer than the whole limit; nobody answers, so the simulated
    # human does after APPROVAL_TIMEOUT_SECONDS.
    quick.task_timeout_seconds = 2
    quick.approval_timeout_seconds = 3
    agents = ScriptedAgents(IMPLEMENT, WRITE_TESTS, Reply("Fixed.", files={"app.py": "fixed"}))
    task, events = run_task(
        quick, db, project, agents, approvals="human", policy={"ask_rules": ["Read(./app.py)"]}
    )

    assert task.status == "completed", task.summary
    assert said(events, "approval")[0].startswith("No answer within APPROVAL_TIMEOUT_SECONDS=3")


def test_refused_credentials_fail_at_once_and_are_remembered(
    quick: Settings, db: sessionmaker[Session], project: Path
) -> None:
    refused = Reply(error="success", error_text="Invalid API key · Please run /login")
    task, _ = run_task(quick, db, project, ScriptedAgents(refused))

    assert task.status == "failed" and (task.iterations, task.pauses) == (1, 0)
    assert task.error is not None
    assert task.error.startswith("Claude Code has no credentials: Invalid API key")
    with db() as s:
        assert credentials.status(s, cli_command=None).startswith("rejected: Invalid API key")


def test_the_tests_run_confined_with_the_sessions_services(
    quick: Settings, db: sessionmaker[Session], project: Path
) -> None:
    confinements: list[Confinement | None] = []

    def runner(
        ctx: RunContext, *, test_command: str | None = None, preferred: str | None = None
    ) -> StubRunner:
        confinements.append(ctx.confinement)
        return StubRunner(ctx)

    quick.max_pauses = 0
    agents = ScriptedAgents(Reply("Should I start?"))
    run_task(
        quick, db, project, agents, runner, test_services=["127.0.0.1:5432"],
        test_network="fetch_domains", policy={"fetch_domains": ["api.example.com"]},
    )  # fmt: skip

    assert len(confinements) == 2  # for the baseline, then with the old tests read-only
    first, then = confinements
    assert first is not None and first.services == (Service("127.0.0.1", 5432),)
    assert then is not None and then.services == first.services
    assert project / "tests" / "test_existing.py" in then.read_only
    # The hosts the agent may reach: the session's, the default documentation and
    # registries, the Bash sandbox's.
    assert then.network == "fetch_domains"
    assert {"api.example.com", "docs.python.org", "pypi.org"} <= set(then.fetch_domains)
    assert then.tmp_bytes == quick.workspace_disk_limit_mb * 1024 * 1024


def test_a_task_that_fills_the_disk_fails_naming_what_filled_it(
    quick: Settings, db: sessionmaker[Session], project: Path
) -> None:
    """WORKSPACE_DISK_LIMIT_MB: measured after each turn and test round."""
    quick.workspace_disk_limit_mb = 1
    big = "x" * (3 * 1024 * 1024)
    agents = ScriptedAgents(IMPLEMENT, Reply("Wrote tests.", files={"test_feature.py": big}))
    task, _ = run_task(quick, db, project, agents)

    assert task.status == "failed" and task.iterations == 2, task.error
    assert task.error is not None
    assert task.error.startswith("Disk limit: the task added 3.0 MB to its workspace and ")
    assert "over WORKSPACE_DISK_LIMIT_MB=1. Largest files: " in task.error
    assert f"{project / 'test_feature.py'} (3.0 MB)" in task.error


def test_each_step_is_one_transaction(
    quick: Settings, db: sessionmaker[Session], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The baseline's results and its record are stored together, or not at all."""
    add_interaction = interactions.add_interaction

    def failing_baseline_record(*args: Any, **kwargs: Any) -> ClaudeInteraction:
        if kwargs["kind"] is Kind.BASELINE:
            raise RuntimeError("the record could not be written")
        return add_interaction(*args, **kwargs)

    monkeypatch.setattr(interactions, "add_interaction", failing_baseline_record)
    (project / "app.py").write_text("")
    with db() as s:
        session = sessions.create_session(
            s, project_path=str(project), isolation="none", base_branch=None
        )
        task_id = tasks.create_task(s, session_id=session.id, description="d").id
    run = TaskRun(task_id, settings=quick, db=db, agents=ScriptedAgents(), runners=StubRunner)
    with pytest.raises(RuntimeError):
        asyncio.run(run.run())
    with db() as s:
        task = tasks.get_task(s, task_id=task_id, with_details=True)
        assert task is not None and task.status == "failed"
        assert task.test_cases == [] and task.baseline is None
