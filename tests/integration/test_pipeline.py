"""The task pipeline end to end: the real Claude Code CLI against a scripted fake model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claudeserver.api.app import create_app
from claudeserver.settings import Settings
from claudeserver.testing import ApiError, FakeAnthropic, Rule, ScriptedModel
from claudeserver.testing.fake_anthropic import Model
from claudeserver.testing.script import Reply, ToolUse, bash, write
from tests.conftest import submit, wait_for
from tests.models import BUGGY, FIXED, calculator, overloaded

pytestmark = pytest.mark.agent

ALL_FOUR_PASSED = {
    "total": 4, "passed": 4, "failed": 0, "pending": 0, "pre_existing": 0, "fixed": 0, "flaky": 0,
}  # fmt: skip


def test_happy_path_with_fix_loop(
    api: TestClient, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    fake = fake_model(calculator())
    task = wait_for(api, submit(api, project, "Add an add(a, b) function in mathutil.py"))

    assert task["status"] == "completed", task["summary"]
    assert (project / "mathutil.py").read_text() == FIXED
    generated = [t for t in task["test_cases"] if t["type"] == "generated"]
    regression = [t for t in task["test_cases"] if t["type"] == "regression"]
    assert len(generated) == 3 and all(t["status"] == "passed" for t in generated)
    assert [t["name"] for t in regression] == ["tests/test_existing.py::test_existing"]
    assert regression[0]["status"] == "passed"
    assert task["test_rounds"] == 2  # the first round failed, the fix passed
    assert task["test_summary"] == ALL_FOUR_PASSED
    assert task["cost_usd"] > 0 and task["input_tokens"] > 0
    assert task["claude_session_id"]
    kinds = [(i["role"], i["kind"]) for i in task["interactions"]]
    assert ("assistant", "tool_use") in kinds and ("tool", "tool_result") in kinds
    assert [i["sequence"] for i in task["interactions"]] == list(
        range(1, len(task["interactions"]) + 1)
    )
    # The failing output reached the model in the fix request.
    assert any("test_small" in r.conversation_text for r in fake.agent_requests())


def test_happy_path_on_postgresql(
    settings: Settings,
    postgres_url: str,
    project: Path,
    fake_model: Callable[[Model], FakeAnthropic],
) -> None:
    settings.database_url = postgres_url
    fake_model(calculator())
    with TestClient(create_app(settings)) as api:
        task = wait_for(api, submit(api, project, "Add an add(a, b) function in mathutil.py"))
    assert task["status"] == "completed", task["summary"]
    assert task["test_summary"] == ALL_FOUR_PASSED


def test_agent_that_never_fixes_its_bug_fails(
    api: TestClient, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    fake_model(calculator(fix=BUGGY))
    task = wait_for(api, submit(api, project, "Add an add(a, b) function"))

    assert task["status"] == "failed"
    assert "MAX_ITERATIONS=8" in task["summary"]
    assert "tests/test_mathutil.py::test_small" in task["summary"]
    assert task["iterations"] == 8


def test_api_overload_fails_with_a_clear_message(
    api: TestClient, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    fake_model(ScriptedModel([Rule("## Task", [ApiError(529)])]))
    task = wait_for(api, submit(api, project, "Anything"))

    assert task["status"] == "failed"
    assert "overloaded" in task["summary"].lower()
    assert "529" in task["error"]


def test_malicious_calls_are_denied_and_the_task_goes_on(
    api: TestClient,
    project: Path,
    tmp_path: Path,
    fake_model: Callable[[Model], FakeAnthropic],
) -> None:
    canary = tmp_path / "outside" / "canary.txt"
    canary.parent.mkdir()
    canary.write_text("still here")
    attacks = (
        bash(f"rm -rf {canary.parent}"),
        write("../outside/planted.txt", "planted"),
        bash("sudo rm -rf /"),
    )
    fake_model(calculator(task_steps=attacks))
    task = wait_for(api, submit(api, project, "Add an add(a, b) function"))

    assert canary.read_text() == "still here"
    assert not (canary.parent / "planted.txt").exists()
    denials = [i for i in task["interactions"] if i["role"] == "permission" and i["kind"] == "deny"]
    assert len(denials) == 3, denials
    assert all(d["content"] for d in denials)
    assert task["status"] == "completed", task["summary"]


def test_pause_rhythm_is_visible(
    api: TestClient, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    busywork = tuple(bash(f"echo step {n}") for n in range(7))
    fake_model(calculator(task_steps=busywork))
    task = wait_for(api, submit(api, project, "Add an add(a, b) function"))

    statuses = [i["content"] for i in task["interactions"] if i["kind"] == "status"]
    assert "paused" in statuses
    assert statuses[statuses.index("paused") + 1] == "running"
    continuations = [i for i in task["interactions"] if i["kind"] == "continuation"]
    assert continuations and task["pauses"] == len(continuations)
    assert task["status"] == "completed", task["summary"]


def test_question_is_answered_and_hedging_is_encouraged(
    api: TestClient, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    question = {
        "questions": [
            {
                "question": "Which name should the function have?",
                "header": "Name",
                "multiSelect": False,
                "options": [
                    {"label": "add", "description": "short"},
                    {"label": "plus", "description": "alternative"},
                ],
            }
        ]
    }
    model = calculator(task_steps=(Reply([ToolUse("AskUserQuestion", question)]),))
    # The agent hedges instead of finishing, until the human encourages it.
    model.rules[0].done = "I implemented add. Should I also add subtraction?"
    encouraged_reply = Rule("without waiting for confirmation", done="Done: add() is complete.")
    model.rules = [*model.rules, encouraged_reply]
    fake = fake_model(model)
    task = wait_for(api, submit(api, project, "Add an add(a, b) function"))

    assert task["status"] == "completed", task["summary"]
    answers = [i for i in task["interactions"] if i["kind"] == "answer"]
    assert answers and "add" in answers[0]["content"]
    # The CLI handed the answer back to the model as the tool's result.
    assert any("add" in str(r.tool_results_since(0)) for r in fake.agent_requests())
    encouraged = [i for i in task["interactions"] if i["role"] == "human"]
    assert any("without waiting for confirmation" in i["content"] for i in encouraged)


def test_transient_overload_is_recovered(
    api: TestClient, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    fake_model(overloaded(1))
    task = wait_for(api, submit(api, project, "Add an add(a, b) function"))
    assert task["status"] == "completed", task["summary"]
    errors = [i for i in task["interactions"] if i["kind"] == "error"]
    assert len(errors) == 1 and task["pauses"] >= 1
    guidance = [i for i in task["interactions"] if "The last step failed" in i["content"]]
    assert guidance


def test_agents_run_at_lower_cpu_priority_than_the_api(
    settings: Settings, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    """AGENT_NICE: the agent's commands (and the CLI that runs them) yield the CPU first;
    the threads serving the API keep their priority."""
    import os
    import threading

    fake_model(calculator(first=FIXED, task_steps=(bash("echo nice=$(nice)"),)))
    settings.agent_nice = 7
    api_priority = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    with TestClient(create_app(settings)) as api:
        task = wait_for(api, submit(api, project, "Add add(a, b)"))

    assert task["status"] == "completed", task["summary"]
    results = [i["content"] for i in task["interactions"] if i["kind"] == "tool_result"]
    assert any(f"nice={api_priority + 7}" in r for r in results), results
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == api_priority
