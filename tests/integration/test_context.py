"""The context window, with the real CLI: Claude Code's compactions are stored and shown, and
a conversation the API calls too long goes on in a fresh one seeded with a hand-off."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from claudeserver.persistence.models import TranscriptEntry
from claudeserver.testing import PROMPT_TOO_LONG, FakeAnthropic, ModelRequest, Reply, Rule
from claudeserver.testing.fake_anthropic import Model
from claudeserver.testing.script import ToolUse, bash, write
from tests.conftest import submit, wait_for
from tests.models import FIXED, calculator

pytestmark = pytest.mark.agent


def test_compactions_are_stored_and_shown(
    api: TestClient,
    project: Path,
    fake_model: Callable[[Model], FakeAnthropic],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The CLI compacts once a request nears 5% of the window; one answer reports that much.
    monkeypatch.setenv("CLAUDE_AUTOCOMPACT_PCT_OVERRIDE", "5")
    reported = {"big": False}

    def big_context(request: ModelRequest) -> Reply:
        tokens = 100 if reported["big"] else 150_000
        reported["big"] = True
        command = {"command": "echo reading a lot", "description": "read"}
        return Reply([ToolUse("Bash", command)], input_tokens=tokens)

    steps = (bash("echo one"), bash("echo two"), big_context, bash("echo more"))
    fake_model(calculator(first=FIXED, task_steps=steps))
    task = wait_for(api, submit(api, project, "Add an add(a, b) function"))

    assert task["status"] == "completed", task["summary"]
    compactions = [i for i in task["interactions"] if i["kind"] == "compaction"]
    assert len(compactions) == 1, compactions
    assert compactions[0]["role"] == "system"
    assert compactions[0]["content"].startswith("Claude Code compacted the conversation (auto)")
    assert compactions[0]["data"]["pre_tokens"] >= 150_000
    # The CLI's own "compacting" notices are not mistaken for the task's status changes.
    statuses = [i["content"] for i in task["interactions"] if i["kind"] == "status"]
    assert "status" not in statuses
    assert task["context_restarts"] == 0


def test_a_prompt_too_long_continues_in_a_fresh_conversation(
    api: TestClient, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    model = calculator()  # the first round of tests fails, and the fix request …
    model.rules[2].steps = [PROMPT_TOO_LONG]  # … finds the conversation too long,
    model.compaction = PROMPT_TOO_LONG  # even to compact it.
    handed_off = Rule("## Hand-off", [write("mathutil.py", FIXED)], done="Fixed it afresh.")
    model.rules = [*model.rules, handed_off]
    fake = fake_model(model)
    task = wait_for(api, submit(api, project, "Add an add(a, b) function"))

    assert task["status"] == "completed", task["summary"]
    assert task["context_restarts"] == 1
    restart = next(i for i in task["interactions"] if i["kind"] == "context_restart")
    assert restart["data"]["previous_session_id"] not in (None, task["claude_session_id"])
    fresh = [r for r in fake.agent_requests() if "## Hand-off" in r.conversation_text]
    hand_off = fresh[0].conversation_text
    assert "Now write tests" not in hand_off, "a fresh conversation, not a resumed one"
    assert "## Task\nAdd an add(a, b) function" in hand_off
    assert "- mathutil.py (+" in hand_off  # the changes so far
    assert "- tests/test_mathutil.py::test_small" in hand_off  # the failing tests
    assert "I wrote three tests." in hand_off  # the agent's last summary
    assert "Some tests failed" in hand_off  # what it was asked when the window ran out
    assert (project / "mathutil.py").read_text() == FIXED

    # Deleting the task deletes both conversations' stored transcripts.
    conversations = [restart["data"]["previous_session_id"], task["claude_session_id"]]
    assert _transcript_lines(api, conversations) > 0
    assert api.delete(f"/api/v1/tasks/{task['id']}").status_code == 204
    assert _transcript_lines(api, conversations) == 0


def _transcript_lines(api: TestClient, conversations: list[str]) -> int:
    with api.app.state.sessionmaker() as db:  # type: ignore[attr-defined]
        query = select(func.count()).where(TranscriptEntry.session_id.in_(conversations))
        return int(db.scalar(query) or 0)
