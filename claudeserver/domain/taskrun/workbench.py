"""What the agent and the tests work in, prepared once before the first turn: the
workspace, the sandbox, the confined test runner, the baseline and the permission policy;
and the agent's configuration from them."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.agent.protocol import AgentConfig
from claudeserver.agent.session_store import DatabaseSessionStore
from claudeserver.domain import sandbox
from claudeserver.domain.agent_env import agent_environment
from claudeserver.domain.confinement import Confinement
from claudeserver.domain.disk_use import MB, DiskCap
from claudeserver.domain.processes import task_env
from claudeserver.domain.taskrun import testgate
from claudeserver.domain.taskrun.context import TaskContext
from claudeserver.domain.taskrun.errors import TaskFailure
from claudeserver.domain.taskrun.journal import Journal
from claudeserver.domain.taskrun.workspace import open_workspace
from claudeserver.domain.testrun import RunContext, TestRunner, find_venv, workspace_python_path
from claudeserver.domain.validation import Baseline
from claudeserver.domain.workspace import Workspace
from claudeserver.persistence.storage import DiskReserve
from claudeserver.policy import DEFAULT_FETCH_DOMAINS, PolicyConfig
from claudeserver.settings import Settings

MAX_INSTRUCTIONS_CHARS = 20_000


class RunnerFactory(Protocol):
    """Picks the project's test runner (testrun.detect_runner, or a test's stand-in)."""

    def __call__(
        self, ctx: RunContext, *, test_command: str | None = None, preferred: str | None = None
    ) -> TestRunner: ...


@dataclass(frozen=True)
class Workbench:
    workspace: Workspace
    sandboxed: bool  # Bash runs in Claude Code's sandbox, the tests confined
    # From the baseline on, the agent has written code: its runs may not change the tests
    # the baseline found.
    tests: TestRunner
    baseline: Baseline
    policy: PolicyConfig  # the permission policy; the baseline's tests are protected in it
    disk: DiskCap  # what the task may add to its workspace and home

    @property
    def project(self) -> Path:
        return self.workspace.path


async def prepare(
    context: TaskContext, settings: Settings, journal: Journal, runners: RunnerFactory
) -> Workbench:
    if not context.origin.is_dir():
        raise TaskFailure(f"The project directory {context.origin} does not exist any more")
    sandboxed = _sandboxed(settings)
    workspace = await open_workspace(context, settings, journal)
    project = workspace.path
    areas = (workspace.worktree or project, context.home)
    limit = settings.workspace_disk_limit_mb
    disk = await asyncio.to_thread(DiskCap.start, areas, limit_mb=limit)

    def runner(protected: frozenset[Path]) -> TestRunner:
        """The project's runner, running its code confined (domain/confinement.py)."""
        top = workspace.worktree or project
        confinement = Confinement(
            workspace=top,
            home=context.home,
            network=context.test_network,
            services=context.test_services,
            fetch_domains=_reachable_domains(context, settings),
            # The user's checkout holds the virtualenv or node_modules the tests use.
            readable=(context.origin,),
            # The .git pointer too: a run that rewrote it could aim our git elsewhere.
            read_only=(top / ".git", *sorted(protected)),
            hidden=_server_data(settings),
            sandboxed=sandboxed,
            tmp_bytes=limit * MB or None,
        )
        run_context = RunContext(
            project, settings.test_timeout_seconds, task_env(context.task_id),
            venv_root=context.origin, confinement=confinement,
        )  # fmt: skip
        return runners(
            run_context, test_command=context.test_command, preferred=context.test_runner
        )

    baseline = context.baseline
    if baseline is None:
        baseline = await testgate.baseline(runner(frozenset()), project, journal)
        await within_cap(disk)
    resolved = project.resolve()
    return Workbench(
        workspace=workspace,
        sandboxed=sandboxed,
        tests=runner(baseline.protected(project)),
        baseline=baseline,
        policy=context.policy_options.config(resolved, baseline.protected(resolved)),
        disk=disk,
    )


async def within_cap(disk: DiskCap) -> None:
    """Fail the task once it added more to the disk than WORKSPACE_DISK_LIMIT_MB."""
    problem = await asyncio.to_thread(disk.excess)
    if problem is not None:
        raise TaskFailure(problem)


def agent_config(
    context: TaskContext, settings: Settings, bench: Workbench, db: sessionmaker[DB]
) -> AgentConfig:
    """The agent that does the task."""
    return AgentConfig(
        cwd=bench.project,
        cli_path=settings.claude_cli_command,
        model=context.model,
        fallback_model=context.fallback_model,
        resume=context.resume,
        max_budget_usd=context.budget,
        env=agent_environment(context.task_id, context.home, _python_path(context, bench)),
        extra_dirs=list(context.policy_options.extra_dirs),
        trust_project_settings=context.trust_project_settings,
        system_prompt_append=_project_instructions(context, bench.project),
        sandbox=_sandbox_settings(settings, bench),
        # In the database, so another worker can resume the conversation. Only with the
        # bundled CLI: an older `claude` rejects the option and would fail every task.
        session_store=DatabaseSessionStore(db) if settings.claude_cli_command is None else None,
        # Room for a call held for approval, the simulated human's thinking and the policy.
        gate_timeout_seconds=max(
            900, settings.approval_timeout_seconds + settings.human_think_seconds + 60
        ),
    )


def review_config(context: TaskContext, settings: Settings, bench: Workbench) -> AgentConfig:
    """The agent that reviews the change."""
    return AgentConfig(
        cwd=bench.project, cli_path=settings.claude_cli_command, model=context.model,
        env=agent_environment(context.task_id, context.home),
        sandbox=_sandbox_settings(settings, bench),
    )  # fmt: skip


def _sandboxed(settings: Settings) -> bool:
    """Whether Bash runs in the sandbox and tests confined; False only under SANDBOX=off."""
    mode = settings.sandbox
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


def _sandbox_settings(settings: Settings, bench: Workbench) -> dict[str, Any] | None:
    """Claude Code's Bash sandbox for this task: the pre-existing tests the baseline names
    are write-denied, and reads follow the policy's allowlist."""
    if not bench.sandboxed:
        return None
    return sandbox.sandbox_settings(settings.sandbox_domains, policy=bench.policy)


def _reachable_domains(context: TaskContext, settings: Settings) -> tuple[str, ...]:
    """The hosts the agent may reach (its Bash sandbox's and WebFetch's lists): what a
    "fetch_domains" test run may reach too."""
    listed = (*settings.sandbox_domains, *DEFAULT_FETCH_DOMAINS,
              *context.policy_options.fetch_domains)  # fmt: skip
    return tuple(dict.fromkeys(listed))


def _server_data(settings: Settings) -> tuple[Path, ...]:
    """What confined runs may not see of the server: its database, token, workspaces."""
    paths = [settings.workspaces_dir, Path.home() / ".claudeserver", settings.token_file]
    reserve = DiskReserve.for_database(settings.database_url).path
    if reserve is not None:  # an SQLite file, with its reserve, WAL and shared memory
        db = reserve.with_suffix("")
        paths += [db, reserve, *(db.with_name(db.name + end) for end in ("-wal", "-shm"))]
    return tuple(paths)


def _python_path(context: TaskContext, bench: Workbench) -> dict[str, str]:
    """In a worktree, the agent's own `pytest` must import the worktree's code too, not
    the checkout's editable install (see testrun/python_env.py)."""
    venv = find_venv(bench.project, context.origin)
    if venv is None or bench.workspace.kind != "worktree":
        return {}
    entries = workspace_python_path(venv=venv, checkout=context.origin, workspace=bench.project)
    return {"PYTHONPATH": os.pathsep.join(entries)} if entries else {}


def _project_instructions(context: TaskContext, project: Path) -> str:
    """Untrusted projects' CLAUDE.md still guides the agent, as plain text."""
    path = project / "CLAUDE.md"
    if context.trust_project_settings or not path.is_file():
        return ""
    text = path.read_text(errors="replace")[:MAX_INSTRUCTIONS_CHARS]
    return f"\n\nThe project's CLAUDE.md says:\n\n{text}"
