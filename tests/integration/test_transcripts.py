"""Claude's transcripts live in the database: a conversation resumes without the local files."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claudeserver.testing import ApiError, FakeAnthropic, Rule, ScriptedModel
from claudeserver.testing.fake_anthropic import Model
from tests.conftest import submit, wait_for
from tests.models import calculator

pytestmark = pytest.mark.agent


def test_retry_resumes_the_conversation_from_the_database(
    api: TestClient, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    fake = fake_model(ScriptedModel([Rule("## Task", [ApiError(529)])]))
    task_id = submit(api, project, "Add")
    first = wait_for(api, task_id)
    assert first["status"] == "failed"
    session_id = first["claude_session_id"]
    assert session_id

    # As if the retry ran on another machine: this one's copy of the transcript is gone.
    local = _local_transcripts(session_id)
    assert local, "the CLI wrote no local transcript"
    for path in local:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()

    fake.model = calculator()
    assert api.post(f"/api/v1/tasks/{task_id}/retry").status_code == 200
    task = wait_for(api, task_id)
    assert task["status"] == "completed", task["summary"]
    assert task["claude_session_id"] == session_id
    # The first attempt's prompt came back from the database.
    assert fake.agent_requests()[-1].conversation_text.count("## Task") >= 2


def _local_transcripts(session_id: str) -> list[Path]:
    """The session's transcript and its subagents' directory, under the CLI's config dir."""
    config = Path(os.environ.get("CLAUDE_CONFIG_DIR") or Path.home() / ".claude")
    projects = config / "projects"
    return [*projects.glob(f"*/{session_id}.jsonl"), *projects.glob(f"*/{session_id}")]
