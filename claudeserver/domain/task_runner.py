"""One task from start to end: baseline tests, agent turns, the human, the validation loop."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.agent.events import (
    AgentError,
    AgentEvent,
    AssistantText,
    GateDecision,
    SystemNotice,
    ToolCall,
    ToolOutcome,
    TurnResult,
)
from claudeserver.agent.session import AgentConfig, AgentSession
from claudeserver.agent.session_store import DatabaseSessionStore
from claudeserver.domain import credentials, gate, sandbox, spending
from claudeserver.domain.agent_env import agent_environment
from claudeserver.domain.confinement import Confinement, Network
from claudeserver.domain.handoff import MAX_CONTEXT_RESTARTS, context_full, hand_off_prompt
from claudeserver.domain.human import SimulatedHuman
from claudeserver.domain.judging import (
    FAILING,
    PRE_EXISTING,
    already_failing,
    blocks,
    completed_summary,
    judge,
    names,
    tests_phrase,
    verdict,
)
from claudeserver.domain.processes import kill_task_processes, task_env
from claudeserver.domain.review import READ_ONLY_TOOLS, Finding, parse_findings, review_prompt
from claudeserver.domain.service_bridge import Service
from claudeserver.domain.testrun import (
    RunContext,
    TestResult,
    TestRunError,
    TestRunner,
    detect_runner,
    find_venv,
    workspace_python_path,
)
from claudeserver.domain.validation import Baseline, Round, run_round, take_baseline
from claudeserver.domain.workspace import (
    Workspace,
    WorkspaceError,
    commit_all,
    commit_message,
    create_snapshot,
    create_worktree,
    push_branch,
    require,
    sync_clone,
)
from claudeserver.domain.workspace import diff as workspace_diff
from claudeserver.domain.workspace import diff_stat as workspace_diff_stat
from claudeserver.persistence import repository as repo
from claudeserver.persistence.storage import DiskReserve, is_storage_full, storage_advice
from claudeserver.policy import PolicyConfig, PolicyOptions
from claudeserver.settings import Settings
from claudeserver.vocabulary import Kind, QueuedFor, Role, TaskStatus

MAX_INSTRUCTIONS_CHARS = 20_000
WATCH_SECONDS = 0.3
# Recorded on each task it runs, so a fleet of workers can be told apart.
WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"


class TaskFailure(Exception):
    """Ends the task as failed; the message is the summary a user reads."""


class ContextFull(Exception):
    """The conversation no longer fits the context window: go on in a fresh one."""

    def __init__(self, *, prompt: str, phase: str) -> None:
        super().__init__("the conversation no longer fits the context window")
        self.prompt = prompt  # what the turn that ran out was answering
        self.phase = phase


class TaskRun:
    def __init__(self, task_id: str, *, settings: Settings, db: sessionmaker[DB]) -> None:
        self.task_id = task_id
        self.settings = settings
        self.db = db
        self.human = SimulatedHuman(settings.human_seed)
        self.agent: AgentSession | None = None
        self.in_turn = False
        self.inbox: list[str] = []
        self.cancel_reason: str | None = None
        self.since_human = 0
        self.ended = False
        with db() as s:
            task = repo.get_task(s, task_id=task_id)
            assert task is not None
            self.task = task
            self.origin = Path(task.session.project_path)
            self.isolation = task.session.isolation
            self.repo_url = task.session.repo_url
            self.base_branch = task.session.base_branch
            session = task.session
            self.test_runner = session.test_runner
            self.test_command = task.test_command or session.test_command
            self.model = task.model or session.model or settings.claude_model
            self.fallback_model = task.fallback_model or session.fallback_model
            self.trust_project_settings = session.trust_project_settings
            self.review = session.review if task.review is None else task.review
            self.baseline_failures = session.baseline_failures
            self.policy_options = PolicyOptions.from_json(session.policy or {}).over(
                PolicyOptions.from_file(settings.policy_file)
            )
            self.budget, self.budget_source = spending.task_budget(
                task=task.max_budget_usd,
                session=session.max_budget_usd,
                default=settings.max_budget_usd,
            )
        self.project = self.origin  # until the workspace is known
        self.max_iterations = task.max_iterations or settings.max_iterations
        # The task's private home: the agent's command env file, the test runs' caches.
        self.home = settings.workspaces_dir / "homes" / task_id
        self.test_network: Network = "host" if session.test_network == "host" else "loopback"
        self.test_services = tuple(Service.parse(s) for s in session.test_services or ())
        # This run's spend counts against its budget (one CLI process per conversation).
        self.cost_at_start = task.cost_usd
        self.fresh_conversations = 0

    # -- lifecycle -------------------------------------------------------------------

    async def run(self) -> None:
        started = self._move(
            TaskStatus.RUNNING, progress="Starting", error=None, summary=None, worker=WORKER_NAME
        )
        if not started:
            return
        work = asyncio.ensure_future(
            asyncio.wait_for(self._work(), self.settings.task_timeout_seconds)
        )
        watcher = asyncio.ensure_future(self._watch(work))
        try:
            await work
        except asyncio.CancelledError:
            if self.cancel_reason is None:
                # Shutdown: the task stays active and resumes at the next start.
                self._progress("Interrupted by a server shutdown; resumes at the next start")
                raise
            self._end(TaskStatus.CANCELLED, f"Cancelled: {self.cancel_reason}")
        except asyncio.TimeoutError:
            limit = self.settings.task_timeout_seconds
            self._end(TaskStatus.FAILED, f"Timed out after TASK_TIMEOUT_SECONDS={limit:g}")
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
                self._save_counters()

    def _fail_for_space(self, exc: Exception) -> None:
        """Free the database's disk reserve so that the failure and its advice are stored.

        Should even that write fail, the task stays active and resumes at the next start.
        """
        url = self.settings.database_url
        DiskReserve.for_database(url).release()
        self._end(TaskStatus.FAILED, storage_advice(exc, url))

    async def _watch(self, work: asyncio.Future[None]) -> None:
        """Follow what others write about this task: a cancel, a person's messages.

        Through the database, so it works whichever process or machine the API runs on.
        """
        # A person's messages before their latest retry or follow-up belong to earlier
        # attempts (the resumed conversation has those it received). After a restart, the
        # current attempt's are delivered again: one cut short may not have reached it.
        seen = self.task.attempt_sequence
        while not work.done():
            await asyncio.sleep(WATCH_SECONDS)
            with self.db() as s:
                status, error = repo.status_of(s, task_id=self.task_id)
                messages = repo.interactions_after(
                    s, task_id=self.task_id, after=seen, limit=100, role=Role.USER
                )
            if status == TaskStatus.CANCELLED.value:
                self.cancel_reason = error or "cancelled"
                # Killed at once: a graceful stop of the CLI can take seconds on a busy
                # machine, and a cancelled task's processes must not run on meanwhile.
                kill_task_processes(self.task_id)
                work.cancel()
                return
            for message in messages:
                seen = message.sequence
                if message.kind != Kind.FOLLOW_UP.value:  # that one is the opening prompt's
                    await self._deliver(message.content)

    async def _deliver(self, message: str) -> None:
        """Into the running turn now, else with the next prompt."""
        if self.agent is not None and self.in_turn:
            await self.agent.send(_from_user(message))
        else:
            self.inbox.append(message)

    async def _work(self) -> None:
        if not self.origin.is_dir():
            raise TaskFailure(f"The project directory {self.origin} does not exist any more")
        self.sandboxed = self._sandboxed()
        self.workspace = await self._workspace()
        self.project = self.workspace.path
        self.tests = self._test_runner(protected=frozenset())
        self.baseline = await self._baseline()
        # From now on the agent has written code: its runs may not change the tests it found.
        self.tests = self._test_runner(protected=self.baseline.protected(self.project))
        config = AgentConfig(
            cwd=self.project,
            cli_path=self.settings.claude_cli_command,
            model=self.model,
            fallback_model=self.fallback_model,
            resume=self.task.claude_session_id,
            max_budget_usd=self.budget,
            env=agent_environment(self.task_id, self.home, self._python_path()),
            extra_dirs=list(self.policy_options.extra_dirs),
            trust_project_settings=self.trust_project_settings,
            system_prompt_append=self._project_instructions(),
            sandbox=self._sandbox_settings(),
            # In the database, so another worker can resume the conversation. Only with the
            # bundled CLI: an older `claude` rejects the option and would fail every task.
            session_store=(
                DatabaseSessionStore(self.db) if self.settings.claude_cli_command is None else None
            ),
        )
        summary = await self._conversations(config)
        # Only now, with the CLI stopped: whoever sees "completed" sees the work finished.
        with self.db() as s:
            credentials.accepted(s)
        self._end(TaskStatus.COMPLETED, summary)

    async def _conversations(self, config: AgentConfig) -> str:
        """The conversation until every test passes, continued in a fresh one each time it
        outgrows the context window; returns the task's summary."""
        prompt, phase = self._opening(), "implement"
        while True:
            async with AgentSession(config, self._gate, self._answer) as agent:
                self.agent = agent
                self.cost_before_process = self.task.cost_usd
                self.costs_before_process = dict(self.task.model_costs or {})
                try:
                    return await self._conversation(prompt, phase)
                except ContextFull as full:
                    phase, last_prompt = full.phase, full.prompt
            # The old CLI has stopped: a fresh one, with what is left of the budget.
            prompt = await self._hand_off(last_prompt)
            config = dataclasses.replace(config, resume=None, max_budget_usd=self._budget_left())

    def _test_runner(self, *, protected: frozenset[Path]) -> TestRunner:
        """The project's runner, running its code confined (domain/confinement.py)."""
        top = self.workspace.worktree or self.workspace.path
        confinement = Confinement(
            workspace=top,
            home=self.home,
            network=self.test_network,
            services=self.test_services,
            # The user's checkout holds the virtualenv or node_modules the tests use.
            readable=(self.origin,),
            # The .git pointer too: a run that rewrote it could aim our git elsewhere.
            read_only=(top / ".git", *sorted(protected)),
            hidden=self._server_data(),
            sandboxed=self.sandboxed,
        )
        context = RunContext(
            self.project, self.settings.test_timeout_seconds, task_env(self.task_id),
            venv_root=self.origin, confinement=confinement,
        )  # fmt: skip
        return detect_runner(context, test_command=self.test_command, preferred=self.test_runner)

    def _sandbox_settings(self) -> dict[str, Any] | None:
        """Claude Code's Bash sandbox for this task: once the baseline names the
        pre-existing tests, they are write-denied, and reads follow the policy's allowlist."""
        if not self.sandboxed:
            return None
        return sandbox.sandbox_settings(self.settings.sandbox_domains, policy=self._policy())

    def _python_path(self) -> dict[str, str]:
        """In a worktree, the agent's own `pytest` must import the worktree's code too, not
        the checkout's editable install (see testrun/python_env.py)."""
        venv = find_venv(self.project, self.origin)
        if venv is None or self.workspace.kind != "worktree":
            return {}
        entries = workspace_python_path(venv=venv, checkout=self.origin, workspace=self.project)
        return {"PYTHONPATH": os.pathsep.join(entries)} if entries else {}

    def _server_data(self) -> tuple[Path, ...]:
        """What confined runs may not see of the server: its database, token, workspaces."""
        paths = [
            self.settings.workspaces_dir,
            Path.home() / ".claudeserver",
            self.settings.token_file,
        ]
        reserve = DiskReserve.for_database(self.settings.database_url).path
        if reserve is not None:  # an SQLite file, with its reserve, WAL and shared memory
            db = reserve.with_suffix("")
            paths += [db, reserve, *(db.with_name(db.name + end) for end in ("-wal", "-shm"))]
        return tuple(paths)

    def _project_instructions(self) -> str:
        """Untrusted projects' CLAUDE.md still guides the agent, as plain text."""
        path = self.project / "CLAUDE.md"
        if self.trust_project_settings or not path.is_file():
            return ""
        text = path.read_text(errors="replace")[:MAX_INSTRUCTIONS_CHARS]
        return f"\n\nThe project's CLAUDE.md says:\n\n{text}"

    def _sandboxed(self) -> bool:
        """Whether Bash runs in the sandbox and tests confined; False only under SANDBOX=off."""
        mode = self.settings.sandbox
        if mode == "off":
            return False
        status = sandbox.probe()
        if status.available:
            return True
        # The project's tests run code the agent wrote: never unconfined unless the
        # operator said so.
        raise TaskFailure(
            f"SANDBOX={mode}, but the sandbox is {status.detail}. Tests of agent-written code "
            "only run confined; set SANDBOX=off to run them (and the agent's commands) "
            "without it"
        )

    async def _workspace(self) -> Workspace:
        """The task's own worktree (or a snapshot to diff against), reused on resume."""
        try:
            if self.task.workspace is not None:
                workspace = Workspace.from_json(self.task.workspace)
                await asyncio.to_thread(require, workspace)
                return workspace
            root = self.settings.workspaces_dir
            if self.repo_url:  # start from the repository's latest base branch
                await asyncio.to_thread(sync_clone, self.repo_url, root)
            if self.isolation == "worktree" and self.base_branch:
                workspace = await asyncio.to_thread(
                    create_worktree, self.origin, task_id=self.task_id,
                    base_branch=self.base_branch, root=root,
                )  # fmt: skip
            else:
                workspace = await asyncio.to_thread(
                    create_snapshot, self.origin, task_id=self.task_id, root=root
                )
        except WorkspaceError as exc:
            raise TaskFailure(f"Workspace problem: {exc}") from exc
        with self.db() as s:
            repo.update_task(s, task_id=self.task_id, workspace=workspace.to_json())
        return workspace

    async def _commit(self) -> None:
        """Completed work is committed on the task's branch; the user's checkout stays as is."""
        if self.workspace.kind != "worktree":
            return
        try:
            sha = await asyncio.to_thread(
                commit_all, self.workspace, message=commit_message(self.task.description),
                author_name=self.settings.git_author_name,
                author_email=self.settings.git_author_email,
            )  # fmt: skip
        except WorkspaceError as exc:
            raise TaskFailure(f"Could not commit the task's changes: {exc}") from exc
        if sha:
            self._record(
                Role.SYSTEM, Kind.COMMIT, f"{self.workspace.branch} {sha}", {"commit": sha}
            )
        if self.repo_url and self.workspace.branch:
            try:
                await asyncio.to_thread(push_branch, self.origin, self.workspace.branch)
            except WorkspaceError as exc:
                raise TaskFailure(f"Could not push {self.workspace.branch}: {exc}") from exc
            self._record(
                Role.SYSTEM, Kind.PUSH, f"pushed {self.workspace.branch} to {self.repo_url}",
                {"branch": self.workspace.branch, "repo_url": self.repo_url},
            )  # fmt: skip

    async def _review(self) -> None:
        """A second, read-only agent reviews the diff; its findings go on the task."""
        self._progress("Reviewing the change")
        try:
            change = await asyncio.to_thread(workspace_diff, self.workspace)
            self.cost_before_process = self.task.cost_usd
            self.costs_before_process = dict(self.task.model_costs or {})
            config = AgentConfig(
                cwd=self.project, cli_path=self.settings.claude_cli_command, model=self.model,
                env=agent_environment(self.task_id, self.home), sandbox=self._sandbox_settings(),
            )  # fmt: skip
            async with AgentSession(config, self._review_gate, self._answer) as reviewer:
                await reviewer.send(review_prompt(self.task.description, change))
                text = ""
                async for event in reviewer.turn():
                    if isinstance(event, TurnResult):
                        self._account(event)
                        text = event.text
                    else:
                        self._store(event)
            findings = parse_findings(text)
        except (AgentError, WorkspaceError) as exc:
            findings = [Finding("info", None, None, f"The review could not run: {exc}")]
        with self.db() as s:
            repo.update_task(
                s, task_id=self.task_id, review_findings=[f.to_json() for f in findings]
            )

    async def _baseline(self) -> Baseline:
        if self.task.baseline is not None:
            return Baseline.from_json(self.task.baseline)
        self._progress("Running the project's regression tests (baseline)")
        baseline, results, seconds = await take_baseline(self.tests, self.project)
        self._save_results("regression", results, baseline)
        with self.db() as s:
            # After a follow-up, the tests generated before are the project's own now.
            repo.drop_test_cases(s, task_id=self.task_id, test_type="generated", keep=set())
            repo.update_task(
                s, task_id=self.task_id, baseline=baseline.to_json(), baseline_duration=seconds
            )
        failing = sum(r.status in FAILING for r in results)
        self._record(
            Role.TEST, Kind.BASELINE,
            f"Baseline: {tests_phrase(len(results))}, {failing} failing ({seconds:.1f} s)",
            {"duration": seconds, "tests": len(results), "failing": failing},
        )  # fmt: skip
        return baseline

    def _follow_up_request(self) -> str:
        with self.db() as s:
            return repo.last_interaction_text(
                s, task_id=self.task_id, role=Role.USER, kind=Kind.FOLLOW_UP
            )

    def _task_text(self) -> str:
        """The task for a hand-off: its description, and the follow-up being worked on."""
        request = self._follow_up_request()
        return f"## Task\n{self.task.description}" + (
            f"\n\n## Follow-up\n{request}" if request else ""
        )

    def _opening(self) -> str:
        request = self._follow_up_request()
        description = self.task.description
        # The latest follow-up stays the work of every later attempt.
        if request:
            first = self.human.follow_up_prompt(description, request)
        else:
            first = self.human.first_prompt(description)
        follow_up_starts = self.task.queued_for == QueuedFor.FOLLOW_UP.value
        if not self.task.claude_session_id or follow_up_starts:
            return first
        why = self.task.error or "the server was restarted while you were working"
        return (
            f"We are resuming this task (attempt {self.task.attempt}). "
            f"It stopped because: {why}.\n\n{first}"
        )

    async def _conversation(self, prompt: str, phase: str) -> str:
        """Turns until every test passes; returns the task's summary."""
        while True:
            result = await self._turn(prompt)
            if result.is_error and context_full(result):
                raise ContextFull(prompt=prompt, phase=phase)
            if result.is_error:
                prompt = await self._recover(result)
            elif phase == "implement" and self.human.hedges(result.text):
                prompt = self._intervene(self.human.encouragement())
            elif phase == "implement":
                prompt, phase = self.human.tests_request(self.tests.framework_hint), "validate"
            else:
                passed, text = await self._validate()
                if passed:
                    return text
                prompt = text

    # -- one agent turn --------------------------------------------------------------

    async def _turn(self, prompt: str) -> TurnResult:
        if not self.project.is_dir():
            raise TaskFailure(f"The project directory {self.project} was deleted during the task")
        if self.task.iterations >= self.max_iterations:
            raise TaskFailure(
                f"Gave up: the agent used all MAX_ITERATIONS={self.max_iterations} "
                f"turns without all tests passing{self._failing_suffix()}"
            )
        self.task.iterations += 1
        self._record(Role.HUMAN, Kind.PROMPT, prompt)
        prompt += "".join(f"\n\n{_from_user(m)}" for m in self.inbox)
        self.inbox.clear()
        self.since_human = 0
        assert self.agent is not None
        self.in_turn = True
        try:
            await self.agent.send(prompt)
            self._progress(f"Task is running - turn {self.task.iterations}")
            events = aiter(self.agent.turn())
            while True:
                event = await self._next_event(events)
                if isinstance(event, TurnResult):
                    self._account(event)
                    return event
                self._store(event)
        finally:
            self.in_turn = False

    async def _next_event(self, events: AsyncIterator[AgentEvent]) -> AgentEvent:
        idle = self.settings.idle_timeout_seconds
        try:
            return await asyncio.wait_for(anext(events), idle)
        except asyncio.TimeoutError:
            raise TaskFailure(
                f"Idle timeout: no message from the agent for IDLE_TIMEOUT_SECONDS={idle:g}"
            ) from None
        except StopAsyncIteration:
            raise TaskFailure("Claude Code ended the conversation without a result") from None

    def _store(self, event: Any) -> None:
        if isinstance(event, AssistantText):
            self.since_human += 1
            self._record(Role.ASSISTANT, Kind.TEXT, event.text, {"model": event.model})
        elif isinstance(event, ToolCall):
            self.since_human += 1
            data = {"id": event.tool_use_id, "input": event.input}
            self._record(Role.ASSISTANT, Kind.TOOL_USE, event.name, data)
        elif isinstance(event, ToolOutcome):
            kind = Kind.TOOL_ERROR if event.is_error else Kind.TOOL_RESULT
            self._record(Role.TOOL, kind, event.content[:20_000], {"id": event.tool_use_id})
        elif isinstance(event, SystemNotice):
            if event.subtype == "api_retry":
                self._progress(_retry_progress(event.data))
            if event.subtype == "init":
                self.task.claude_session_id = event.data.get("session_id")
                self.task.model = event.data.get("model") or self.task.model
                self._save_counters()
            if event.subtype == "compact_boundary":
                self._record_compaction(event.data.get("compact_metadata") or {})
                return
            # The CLI's "status" notices (compacting) are not the task's status changes.
            notice: Kind | str = Kind.CLI_STATUS if event.subtype == "status" else event.subtype
            self._record(Role.SYSTEM, notice, event.subtype, _compact(event.data))

    def _record_compaction(self, metadata: dict[str, Any]) -> None:
        """Claude Code summarised the conversation to make room in the context window."""
        before, after = metadata.get("pre_tokens"), metadata.get("post_tokens")
        sizes = (
            f": {before:,} → {after:,} tokens"
            if isinstance(before, int) and isinstance(after, int)
            else ""
        )
        trigger = metadata.get("trigger") or "auto"
        text = f"Claude Code compacted the conversation ({trigger}){sizes}"
        keep = ("trigger", "pre_tokens", "post_tokens", "duration_ms")
        self._record(Role.SYSTEM, Kind.COMPACTION, text, {k: metadata.get(k) for k in keep})

    def _account(self, result: TurnResult) -> None:
        spent_before = self.task.cost_usd
        self.task.claude_session_id = result.session_id or self.task.claude_session_id
        self.task.cost_usd = self.cost_before_process + result.process_cost_usd
        costs = dict(self.costs_before_process)
        for name, cost in result.process_model_costs.items():
            costs[name] = costs.get(name, 0.0) + cost
        self.task.model_costs = costs
        self.task.input_tokens += result.input_tokens
        self.task.output_tokens += result.output_tokens
        with self.db() as s:
            spending.spend(s, self.task.cost_usd - spent_before)
        data: dict[str, Any] = {"subtype": result.subtype, "cost_usd": self.task.cost_usd}
        if result.api_error_status:
            data["api_error_status"] = result.api_error_status
        text = result.text or "; ".join(result.errors)
        self._record(Role.ASSISTANT, Kind.ERROR if result.is_error else Kind.RESULT, text, data)
        self._save_counters()

    # -- the simulated human ---------------------------------------------------------

    async def _gate(
        self, tool_name: str, tool_input: dict[str, Any], cwd: Path | None
    ) -> GateDecision:
        decision = await gate.check(tool_name, tool_input, self._policy(), cwd=cwd)
        data = {"tool": tool_name, "input": tool_input, "category": decision.category}
        self._record(
            Role.PERMISSION, Kind.ALLOW if decision.allowed else Kind.DENY, decision.reason, data
        )
        if not decision.allowed:
            return GateDecision(False, self.human.denial_guidance(decision.reason))
        if self.human.wants_pause(self.since_human) and self.task.pauses < self.settings.max_pauses:
            await self._pause(self.human.continuation())
        return GateDecision(True, decision.reason)

    async def _review_gate(
        self, tool_name: str, tool_input: dict[str, Any], cwd: Path | None
    ) -> GateDecision:
        """The reviewer only reads, and only what the policy lets the agent read."""
        if tool_name not in READ_ONLY_TOOLS:
            return GateDecision(False, "denied: the review is read-only; answer with your findings")
        decision = await gate.check(tool_name, tool_input, self._policy(), cwd=cwd)
        if not decision.allowed:
            return GateDecision(False, decision.reason)
        return GateDecision(True, "allowed: reading during the review")

    async def _pause(self, message: str) -> None:
        """Hold the agent (it waits on this tool call) while the human thinks, then nudge it."""
        self.task.pauses += 1
        self._move(TaskStatus.PAUSED, progress="Paused: the simulated human is reviewing")
        await asyncio.sleep(self.settings.human_think_seconds)
        self._record(Role.HUMAN, Kind.CONTINUATION, message)
        self.since_human = 0
        assert self.agent is not None
        await self.agent.send(message)
        self._move(TaskStatus.RUNNING, progress=f"Task is running - turn {self.task.iterations}")

    def _intervene(self, message: str) -> str:
        """Spend one of the human's interventions, or fail when none are left."""
        if self.task.pauses >= self.settings.max_pauses:
            raise TaskFailure(
                f"Gave up: the agent needed more than MAX_PAUSES={self.settings.max_pauses} "
                f"interventions{self._failing_suffix()}"
            )
        self.task.pauses += 1
        return message

    async def _recover(self, result: TurnResult) -> str:
        error = describe_error(result, cli_command=self.settings.claude_cli_command)
        if "budget" in result.subtype:
            spent = self.task.cost_usd - self.cost_at_start
            raise TaskFailure(
                f"Budget exhausted: this attempt spent ${spent:.4f} of "
                f"{self.budget_source}={self.budget:g} USD"
            )
        text = result.text or "; ".join(result.errors)
        if credentials.is_refusal(result.api_error_status, text):
            # Retrying or nudging the agent cannot help: fail now, saying what to do.
            with self.db() as s:
                credentials.record_refusal(s, task_id=self.task_id, message=text)
            raise TaskFailure(error)
        try:
            message = self._intervene(self.human.error_guidance(error))
        except TaskFailure as exc:
            raise TaskFailure(f"{error} ({exc})") from None
        await asyncio.sleep(self.settings.human_think_seconds * self.task.pauses)
        return message

    async def _answer(self, questions: list[dict[str, Any]]) -> dict[str, str]:
        answers = self.human.answer(questions)
        self._record(Role.HUMAN, Kind.ANSWER, "\n".join(f"{q}: {a}" for q, a in answers.items()))
        return answers

    # -- validation ------------------------------------------------------------------

    async def _validate(self) -> tuple[bool, str]:
        """Run the tests: (True, the summary) when nothing the agent must fix fails, else
        (False, what to tell the agent). Judged by change against the baseline."""
        self.task.test_rounds += 1
        self._move(TaskStatus.TESTING, progress="Running the generated tests")
        outcome = await run_round(
            self.tests, self.project, self.baseline,
            on_full_run=lambda: self._progress("Running the generated and regression tests"),
        )  # fmt: skip
        if outcome.full:  # else the regression results of the last full round stand
            self._save_results("regression", outcome.regression, self.baseline, outcome.flaky)
        self._save_results("generated", outcome.generated, self.baseline)
        judgement = judge(
            baseline=self.baseline.outcomes, generated=outcome.generated,
            regression=outcome.regression, flaky=outcome.flaky,
            baseline_failures=self.baseline_failures,
        )  # fmt: skip
        self._record_round(outcome, len(judgement.blocking))
        # Failures first: a test file that does not even load also yields too few tests,
        # and the agent needs to see why rather than be asked to write more.
        if judgement.blocking:
            failures = judgement.blocking
            self._move(TaskStatus.RUNNING, progress=f"{len(failures)} test(s) failing; fixing")
            return False, self.human.failure_feedback(failures, self.baseline.outcomes)
        if not outcome.count_ok:
            self._move(TaskStatus.RUNNING, progress="Asking the agent to adjust its tests")
            return False, self.human.test_count_fix(len(outcome.generated))
        summary = completed_summary(
            generated=len(outcome.generated), regression=len(outcome.regression),
            judgement=judgement,
        )  # fmt: skip
        last = self._last_result_text()
        if self.review:
            await self._review()
        await self._commit()
        return True, f"{summary}\n\n{last[:2000]}".strip()

    def _record_round(self, outcome: Round, failing: int) -> None:
        """The round's duration, on the task and in its history."""
        seconds = round(outcome.duration, 3)
        self.task.round_durations = [*(self.task.round_durations or []), seconds]
        with self.db() as s:
            repo.update_task(s, task_id=self.task_id, round_durations=self.task.round_durations)
        ran = "generated and regression" if outcome.full else "generated"
        self._record(
            Role.TEST, Kind.ROUND,
            f"Round {self.task.test_rounds} ({ran} tests): {failing} failing ({seconds:.1f} s)",
            {"round": self.task.test_rounds, "duration": seconds, "full": outcome.full,
             "generated": len(outcome.generated), "regression": len(outcome.regression),
             "failing": failing, "flaky": len(outcome.flaky)},
        )  # fmt: skip

    def _save_results(
        self,
        test_type: str,
        results: list[TestResult],
        baseline: Baseline,
        flaky: frozenset[str] = frozenset(),
    ) -> None:
        before = baseline.outcomes if test_type == "regression" else {}
        with self.db() as s:
            repo.save_test_cases(
                s, task_id=self.task_id, test_type=test_type, results=results,
                baseline_status=before, flaky=flaky,
            )  # fmt: skip
            keep = {r.name for r in results}
            repo.drop_test_cases(s, task_id=self.task_id, test_type=test_type, keep=keep)
        unchanged = 0
        for result in results:
            what = verdict(
                baseline_status=before.get(result.name), status=result.status,
                flaky=result.name in flaky,
            )  # fmt: skip
            if test_type == "regression" and what == "ok" and result.status == "passed":
                # A suite of 60,000 tests would otherwise be 60,000 events per round, and
                # the one that matters lost among them: the passing ones are counted.
                unchanged += 1
                continue
            data = {
                "type": test_type, "status": result.status, "duration": result.duration,
                "verdict": what,
            }  # fmt: skip
            self._record(Role.TEST, Kind.TEST_RESULT, f"{result.status}: {result.name}", data)
        if unchanged:
            data = {"type": test_type, "status": "passed", "verdict": "ok", "count": unchanged}
            self._record(Role.TEST, Kind.TEST_RESULT, f"passed: {unchanged} regression tests", data)

    # -- bookkeeping -----------------------------------------------------------------

    def _policy(self) -> PolicyConfig:
        project = self.project.resolve()
        return self.policy_options.config(project, self.baseline.protected(project))

    def _end(self, status: TaskStatus, summary: str) -> None:
        # Processes and counters first: whoever sees the final status must find no process
        # of the task left, and the final figures.
        kill_task_processes(self.task_id)
        self._save_counters()
        shutil.rmtree(self.home, ignore_errors=True)
        self.ended = True
        error = None if status is TaskStatus.COMPLETED else summary
        if status is TaskStatus.FAILED:
            summary = f"Failed: {summary}"
        self._move(status, summary=summary, error=error, progress=status.value.capitalize())

    def _failing_suffix(self) -> str:
        """What still fails when a task gives up: the agent's failures (a bounded list),
        then those that were failing before the task."""
        failing, old = self._failing_tests()
        suffix = f"; failing tests: {names(failing)}" if failing else ""
        return suffix + (f"; {already_failing(old)}" if old else "")

    def _failing_tests(self) -> tuple[list[str], list[str]]:
        """(what the agent must still fix, what was failing before the task), by name."""
        with self.db() as s:
            task = repo.get_task(s, task_id=self.task_id, with_details=True)
            cases = task.test_cases if task else []
        failing, old = [], []
        for case in cases:
            what = verdict(
                baseline_status=case.baseline_status, status=case.status, flaky=case.flaky
            )
            if blocks(verdict_=what, status=case.status, baseline_failures=self.baseline_failures):
                failing.append(case.name)
            elif what == PRE_EXISTING:
                old.append(case.name)
        return failing, old

    async def _hand_off(self, last_prompt: str) -> str:
        """Start counting a fresh conversation; its first message says where the work stands."""
        if self.fresh_conversations >= MAX_CONTEXT_RESTARTS:
            raise TaskFailure(
                "The conversation outgrew the model's context window "
                f"{MAX_CONTEXT_RESTARTS + 1} times in this attempt{self._failing_suffix()}"
            )
        self.fresh_conversations += 1
        self.task.context_restarts += 1
        previous, self.task.claude_session_id = self.task.claude_session_id, None
        self._save_counters()
        self._record(
            Role.SYSTEM, Kind.CONTEXT_RESTART,
            "The conversation no longer fits the context window: continuing in a fresh one",
            {"previous_session_id": previous, "context_restarts": self.task.context_restarts},
        )  # fmt: skip
        try:
            changes = await asyncio.to_thread(workspace_diff_stat, self.workspace)
        except WorkspaceError:
            changes = []
        return hand_off_prompt(
            task=self._task_text(), changes=changes, failing=self._failing_tests()[0],
            summary=self._last_result_text(), last_prompt=last_prompt,
        )  # fmt: skip

    def _budget_left(self) -> float:
        """What this run may still spend: a fresh CLI process counts from zero."""
        return max(self.budget - (self.task.cost_usd - self.cost_at_start), 0.0001)

    def _last_result_text(self) -> str:
        with self.db() as s:
            return repo.last_interaction_text(
                s, task_id=self.task_id, role=Role.ASSISTANT, kind=Kind.RESULT
            )

    def _move(self, to: TaskStatus, **fields: Any) -> bool:
        with self.db() as s:
            return repo.transition(s, task_id=self.task_id, to=to, **fields)

    def _progress(self, text: str) -> None:
        with self.db() as s:
            repo.set_progress(s, task_id=self.task_id, progress=text)

    def _record(
        self, role: Role, kind: Kind | str, content: str, data: dict[str, Any] | None = None
    ) -> None:
        with self.db() as s:
            repo.add_interaction(
                s, task_id=self.task_id, role=role, kind=kind, content=content, data=data
            )

    def _save_counters(self) -> None:
        task = self.task
        with self.db() as s:
            repo.update_task(
                s,
                task_id=self.task_id,
                iterations=task.iterations,
                pauses=task.pauses,
                test_rounds=task.test_rounds,
                cost_usd=task.cost_usd,
                input_tokens=task.input_tokens,
                output_tokens=task.output_tokens,
                claude_session_id=task.claude_session_id,
                model=task.model,
                model_costs=task.model_costs,
                context_restarts=task.context_restarts,
            )


def describe_error(result: TurnResult, *, cli_command: str | None = None) -> str:
    text = result.text or "; ".join(result.errors) or result.subtype
    status = result.api_error_status
    if status in (529, 503) or "overloaded" in text.lower():
        return f"Claude API overloaded (HTTP {status or 529}): {text}"
    if credentials.is_refusal(status, text):
        what = (
            f"Claude API rejected the credentials (HTTP {status})"
            if status
            else "Claude Code has no credentials"
        )
        return f"{what}: {text}. {credentials.advice(cli_command)}"
    if status:
        return f"Claude API error (HTTP {status}): {text}"
    return f"Claude Code reported an error: {text}"


def _retry_progress(data: dict[str, Any]) -> str:
    status = data.get("error_status")
    what = "Claude API overloaded" if status in (529, 503) else f"Claude API error {status}"
    return f"{what}, retry {data.get('attempt')}/{data.get('max_retries')}"


def _from_user(message: str) -> str:
    return f"Message from the user (a real person supervising this task):\n{message}"


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    """Init notices list every tool and plugin; keep what a reader of the task needs."""
    keep = (
        "session_id", "model", "cwd", "permissionMode", "attempt", "max_retries", "error",
        "status", "compact_result", "compact_error",
    )  # fmt: skip
    return {k: v for k, v in data.items() if k in keep}
