"""What one task run works with, resolved once as it starts: the task's options over its
session's over the server's defaults, and the task as it was queued. Nothing later in the
run reads an option from the task's row."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from claudeserver.domain import spending
from claudeserver.domain.confinement import Network
from claudeserver.domain.service_bridge import Service
from claudeserver.domain.validation import Baseline
from claudeserver.persistence.models import Task
from claudeserver.policy import PolicyOptions
from claudeserver.settings import Settings
from claudeserver.vocabulary import QueuedFor


@dataclass(frozen=True)
class TaskContext:
    task_id: str
    session_id: str
    description: str
    origin: Path  # the user's checkout: the project the workspace is made from
    isolation: str
    repo_url: str | None
    base_branch: str | None
    test_runner: str | None
    test_command: str | None
    model: str | None
    fallback_model: str | None
    trust_project_settings: bool
    review: bool
    baseline_failures: str
    test_network: Network
    test_services: tuple[Service, ...]  # host services bridged into confined test runs
    policy_options: PolicyOptions
    approvals: str  # who answers the policy's asks: "auto" (the simulated human) or "human"
    budget: float  # USD this attempt may spend
    budget_source: str  # the setting `budget` comes from, for the user
    max_iterations: int
    # The task's private home: the agent's command env file, the test runs' caches.
    home: Path
    # The task as it was queued:
    attempt: int
    starts_follow_up: bool  # queued for a person's follow-up request
    stopped_because: str | None  # why the run before this one stopped, if one did
    resume: str | None  # the Claude conversation to continue
    attempt_sequence: int  # where this attempt's history begins
    # Made by an earlier run, reused; as stored (parsed when used, where a bad one fails).
    workspace: dict[str, str | None] | None
    baseline: Baseline | None  # taken by an earlier run, kept

    @classmethod
    def resolve(cls, task: Task, settings: Settings) -> TaskContext:
        """From the task's row (its session loaded with it) and the server's settings."""
        session = task.session
        budget, budget_source = spending.task_budget(
            task=task.max_budget_usd,
            session=session.max_budget_usd,
            default=settings.max_budget_usd,
        )
        return cls(
            task_id=task.id,
            session_id=task.session_id,
            description=task.description,
            origin=Path(session.project_path),
            isolation=session.isolation,
            repo_url=session.repo_url,
            base_branch=session.base_branch,
            test_runner=session.test_runner,
            test_command=task.test_command or session.test_command,
            model=task.model or session.model or settings.claude_model,
            fallback_model=task.fallback_model or session.fallback_model,
            trust_project_settings=session.trust_project_settings,
            review=session.review if task.review is None else task.review,
            baseline_failures=session.baseline_failures,
            test_network=_network(session.test_network),
            test_services=tuple(Service.parse(s) for s in session.test_services or ()),
            policy_options=PolicyOptions.from_json(session.policy or {}).over(
                PolicyOptions.from_file(settings.policy_file)
            ),
            approvals=task.approvals or session.approvals,
            budget=budget,
            budget_source=budget_source,
            max_iterations=task.max_iterations or settings.max_iterations,
            home=settings.workspaces_dir / "homes" / task.id,
            attempt=task.attempt,
            starts_follow_up=task.queued_for == QueuedFor.FOLLOW_UP.value,
            stopped_because=task.error,
            resume=task.claude_session_id,
            attempt_sequence=task.attempt_sequence,
            workspace=task.workspace,
            baseline=None
            if task.baseline is None
            else Baseline.from_json(task.baseline, task.baseline_duration),
        )


def _network(stored: str) -> Network:
    """The session's test_network; anything unknown is the default, the tightest."""
    for network in get_args(Network):
        if stored == network:
            return network  # type: ignore[no-any-return]
    return "loopback"
