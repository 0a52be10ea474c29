"""End to end: the real Claude Code CLI is the MCP client. A fake model in its own
conversation delegates to claudeserver over /mcp; the task runs with the inner fake model."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import claude_agent_sdk

from claudeserver.testing import FakeAnthropic, Reply, Rule, ScriptedModel, ToolUse
from claudeserver.testing.fake_anthropic import Model
from claudeserver.testing.request import ModelRequest
from tests.mcp.conftest import TOKEN
from tests.models import calculator

# The CLI the server itself runs when CLAUDE_CLI_COMMAND is unset.
BUNDLED_CLI = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"


def delegator(project: Path) -> ScriptedModel:
    def wait(request: ModelRequest) -> Reply:
        # Claude Code shows the model a tool's structured content: the task's JSON.
        (submitted,) = request.tool_results_since(0)
        task_id = json.loads(str(submitted["content"]))["id"]
        return Reply(
            [
                ToolUse(
                    "mcp__claudeserver__wait_for_task",
                    {"task_id": task_id, "timeout_seconds": 90},
                )
            ]
        )

    submit = Reply(
        [
            ToolUse(
                "mcp__claudeserver__submit_task",
                {"description": "Write add()", "project_path": str(project)},
            )
        ]
    )
    return ScriptedModel([Rule("Delegate", [submit, wait], done="Delegated.")])


def test_claude_code_delegates_a_task_and_waits_for_it(
    server: str, project: Path, fake_model: Callable[[Model], FakeAnthropic], tmp_path: Path
) -> None:
    fake_model(calculator())  # the server's own agent
    outer = FakeAnthropic(delegator(project)).start()
    try:
        config = {
            "mcpServers": {
                "claudeserver": {
                    "type": "http",
                    "url": f"{server}/mcp",
                    "headers": {"Authorization": f"Bearer {TOKEN}"},
                }
            }
        }
        home = tmp_path / "home"
        home.mkdir()
        ran = subprocess.run(
            [
                str(BUNDLED_CLI),
                "-p",
                "Delegate: write add() in the project",
                "--mcp-config",
                json.dumps(config),
                "--strict-mcp-config",
                "--allowedTools",
                "mcp__claudeserver__submit_task,mcp__claudeserver__wait_for_task",
                "--output-format",
                "json",
            ],
            env={**os.environ, **outer.env(), "HOME": str(home)},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=110,
        )
        assert ran.returncode == 0, ran.stderr + ran.stdout
        assert json.loads(ran.stdout)["result"] == "Delegated."
        seen = outer.agent_requests()[-1].tool_results_since(0)
        submitted, waited = (json.loads(str(r["content"])) for r in seen)
        assert (submitted["description"], submitted["status"]) == ("Write add()", "pending")
        assert (waited["id"], waited["status"]) == (submitted["id"], "completed")
        assert waited["test_summary"]["failed"] == 0
    finally:
        outer.stop()
