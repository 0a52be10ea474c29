"""Review comments sent back to the real Claude Code CLI (against the fake model)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claudeserver.testing import FakeAnthropic, Rule, ScriptedModel
from claudeserver.testing.fake_anthropic import Model
from claudeserver.testing.script import write
from tests.conftest import wait_for
from tests.models import FIXED, calculator
from tests.reviewing import git

pytestmark = pytest.mark.agent

STRICT = (
    "def add(a, b):\n"
    "    if isinstance(a, str) or isinstance(b, str):\n"
    "        raise TypeError('add() takes numbers')\n"
    "    return a + b\n"
)
STRICT_TESTS = (
    "import pytest\nfrom mathutil import add\n\n"
    "def test_strings_are_refused():\n    with pytest.raises(TypeError):\n        add('a', 'b')\n\n"
    "def test_numbers_still_add():\n    assert add(2, 3) == 5\n"
)
ASK = "Refuse strings here: raise TypeError."


def test_a_comment_round_changes_the_commented_line_tests_again_and_commits(
    api: TestClient, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "initial")
    fake = fake_model(calculator(first=FIXED))
    session = api.post("/api/v1/sessions", json={"project_path": str(project)}).json()
    created = api.post("/api/v1/tasks", json={"session_id": session["id"], "description": "Add"})
    task_id = created.json()["id"]
    first = wait_for(api, task_id)
    assert first["status"] == "completed", first["summary"]
    branch = first["workspace"]["branch"]
    commits = int(git(project, "rev-list", "--count", branch))

    path = f"/api/v1/tasks/{task_id}/comments"
    on_add = api.post(path, json={"file": "mathutil.py", "line": 2, "body": ASK})
    assert on_add.status_code == 201, on_add.text
    on_test = api.post(path, json={"file": "tests/test_mathutil.py", "line": 1, "body": "Fine."})
    assert on_test.status_code == 201, on_test.text
    fake.model = ScriptedModel(
        [
            Rule("left 2 comments on its diff", [write("mathutil.py", STRICT)], done="Done."),
            Rule("write tests", [write("tests/test_strict.py", STRICT_TESTS)], done="Two tests."),
        ]
    )
    sent = api.post(f"{path}/send")
    assert sent.status_code == 200, sent.text
    assert (sent.json()["status"], sent.json()["attempt"]) == ("pending", 2)
    task = wait_for(api, task_id)

    assert task["status"] == "completed", task["summary"]
    # The agent was shown each comment with its place and code, in the same conversation.
    opening = next(r for r in fake.agent_requests() if ASK in r.conversation_text)
    assert "### Comment 1: mathutil.py, line 2" in opening.conversation_text
    assert "> 2 |     return a + b" in opening.conversation_text
    assert task["claude_session_id"] == first["claude_session_id"]
    # Tested again: the new tests are this round's, the first round's are regression now.
    kinds = {t["name"].rsplit("::", 1)[-1]: t["type"] for t in task["test_cases"]}
    assert kinds["test_strings_are_refused"] == "generated"
    assert kinds["test_small"] == "regression"
    assert task["test_rounds"] > first["test_rounds"]
    # Committed on the task's branch.
    assert int(git(project, "rev-list", "--count", branch)) == commits + 1
    assert "raise TypeError" in git(project, "show", f"{branch}:mathutil.py")
    # The comment whose line changed is addressed; the other is left for the user.
    state = {c["id"]: c for c in api.get(path).json()}
    assert (state[on_add.json()["id"]]["addressed"], state[on_add.json()["id"]]["resolved"]) == (
        True, True,
    )  # fmt: skip
    assert not state[on_test.json()["id"]]["resolved"]
    later = api.get(f"/api/v1/tasks/{task_id}/interactions", params={"limit": 1000}).json()
    settled = [i for i in later["items"] if i["kind"] == "comment"][-1]
    assert settled["content"].startswith("The agent changed the lines of 1 of 2 comments")
