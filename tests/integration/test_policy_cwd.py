"""The policy judges each tool call where it really runs: the cwd the CLI's hook reports.

Claude Code's Bash keeps its working directory between calls, so `cd tests` in one call
and `rm -f test_existing.py` in the next deletes a pre-existing test unless the second
call is judged from inside tests/.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from claudeserver.testing.script import bash
from tests.conftest import submit, wait_for
from tests.models import calculator

pytestmark = pytest.mark.agent


def test_a_cd_in_an_earlier_call_does_not_hide_a_protected_test(
    api: TestClient, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    existing = project / "tests" / "test_existing.py"
    before = existing.read_text()
    steps = (bash("cd tests"), bash("rm -f test_existing.py", "tidy up"))
    fake_model(calculator(task_steps=steps))
    task = wait_for(api, submit(api, project, "Add an add(a, b) function in mathutil.py"))

    assert existing.read_text() == before
    decisions = [
        (i["kind"], i["data"]["input"].get("command"), i["data"]["category"])
        for i in task["interactions"]
        if i["role"] == "permission" and i["data"]["tool"] == "Bash"
    ]
    assert ("allow", "cd tests", "allowed") in decisions
    assert ("deny", "rm -f test_existing.py", "protected_test") in decisions, decisions
