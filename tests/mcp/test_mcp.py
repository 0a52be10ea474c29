"""The MCP server with the `mcp` client library: streamable HTTP at /mcp of a live server,
and stdio through `claudeserver mcp` bridging to it."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent

from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from tests.mcp.conftest import TOKEN
from tests.models import calculator

TOOLS = {
    "create_session",
    "list_sessions",
    "submit_task",
    "task_status",
    "wait_for_task",
    "task_diff",
    "follow_up",
    "send_message",
    "cancel_task",
    "list_tasks",
    "list_approvals",
    "answer_approval",
}
UNKNOWN = "task no-such-task not found (HTTP 404)"

Connect = Callable[[], Any]


@asynccontextmanager
async def over_http(server: str, token: str | None = TOKEN) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(f"{server}/mcp", http_client=http)) as client,
    ):
        yield client


@asynccontextmanager
async def over_stdio(server: str) -> AsyncIterator[Client]:
    bridge = StdioServerParameters(
        command=sys.executable,
        args=["-m", "claudeserver", "mcp", "--server", server],
        env={
            "CLAUDESERVER_TOKEN": TOKEN,
            "PYTHONPATH": os.pathsep.join(sys.path),
            "TOKEN_FILE": os.environ["TOKEN_FILE"],
        },
    )
    async with Client(bridge) as client:
        yield client


TRANSPORTS = {"http": over_http, "stdio": over_stdio}


@pytest.fixture(params=sorted(TRANSPORTS))
def connect(request: pytest.FixtureRequest, server: str) -> Connect:
    return lambda: TRANSPORTS[request.param](server)


def text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def call(client: Client, tool: str, **arguments: Any) -> CallToolResult:
    result = await client.call_tool(tool, arguments)
    assert isinstance(result, CallToolResult)
    assert not result.is_error, text(result)
    return result


async def test_tools_create_a_session_submit_a_task_and_report_it(
    connect: Connect, project: Path
) -> None:
    async with connect() as client:
        listed = await client.list_tools()
        assert {tool.name for tool in listed.tools} == TOOLS

        session = await call(client, "create_session", project_path=str(project))
        assert session.structured_content is not None
        session_id = session.structured_content["id"]
        assert text(session) == f"session {session_id} for {project}"

        sessions = await call(client, "list_sessions")
        assert sessions.structured_content == {"sessions": [session.structured_content]}

        # A project path reuses the project's session, as `claudeserver submit` does.
        submitted = await call(
            client, "submit_task", description="Write add()", project_path=str(project)
        )
        task = submitted.structured_content
        assert task is not None
        assert (task["session_id"], task["description"]) == (session_id, "Write add()")
        assert text(submitted).startswith(f"task {task['id']} submitted (pending)")

        status = await call(client, "task_status", task_id=task["id"])
        assert status.structured_content is not None
        assert status.structured_content["id"] == task["id"]
        assert text(status).startswith(f"task {task['id']} ")

        tasks = await call(client, "list_tasks", limit=5)
        assert [t["id"] for t in (tasks.structured_content or {})["tasks"]] == [task["id"]]

        # The lifecycle rules are the API's: no follow-up before the task has ended.
        early = await client.call_tool("follow_up", {"task_id": task["id"], "content": "More"})
        assert isinstance(early, CallToolResult)
        assert early.is_error
        assert text(early).endswith("(HTTP 409)")

        cancelled = await call(client, "cancel_task", task_id=task["id"])
        assert (cancelled.structured_content or {})["status"] == "cancelled"
        # An ended task is not waited for.
        started = time.monotonic()
        final = await call(client, "wait_for_task", task_id=task["id"], timeout_seconds=60)
        assert time.monotonic() - started < 10
        assert text(final).startswith(f"task {task['id']} cancelled; tests 0 passed, 0 failed")


async def test_refusals_are_errors_with_the_apis_message(connect: Connect, tmp_path: Path) -> None:
    async with connect() as client:
        for tool in ("task_status", "wait_for_task", "task_diff", "cancel_task"):
            result = await client.call_tool(tool, {"task_id": "no-such-task"})
            assert isinstance(result, CallToolResult)
            assert result.is_error
            assert text(result) == f"Error executing tool {tool}: {UNKNOWN}"

        approvals = await call(client, "list_approvals")
        assert (approvals.structured_content, text(approvals)) == ({"approvals": []}, "0 approvals")
        unknown = await client.call_tool(
            "answer_approval", {"approval_id": "no-such-approval", "decision": "allow"}
        )
        assert isinstance(unknown, CallToolResult)
        assert unknown.is_error and text(unknown).endswith("(HTTP 404)")

        missing = await client.call_tool("create_session", {"project_path": str(tmp_path / "x")})
        assert isinstance(missing, CallToolResult)
        assert missing.is_error
        assert "(HTTP 422)" in text(missing)

        with pytest.raises(MCPError, match="not found"):
            await client.read_resource("claudeserver://tasks/no-such-task/timeline")


async def test_mcp_needs_the_token(server: str) -> None:
    # Another site's page may not drive it, token or not.
    foreign = httpx.post(
        f"{server}/mcp",
        headers={"Authorization": f"Bearer {TOKEN}", "Origin": "https://evil.example"},
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
    )
    assert foreign.status_code == 403, foreign.text
    for token in (None, "wrong"):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        refused = httpx.post(
            f"{server}/mcp",
            headers={**headers, "Accept": "application/json, text/event-stream"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        )
        assert refused.status_code == 401, refused.text
    # The client library cannot even start its session.
    with pytest.raises(Exception) as failed:  # an exception group around the MCPError
        async with over_http(server, token=None) as client:
            await client.list_tools()
    assert "MCPError" in repr(failed.value)


async def test_a_submitted_task_is_waited_for_and_its_diff_and_results_read(
    connect: Connect, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    fake_model(calculator())
    async with connect() as client:
        submitted = await call(
            client, "submit_task", description="Write add()", project_path=str(project)
        )
        task_id = (submitted.structured_content or {})["id"]

        started = time.monotonic()
        final = await call(client, "wait_for_task", task_id=task_id, timeout_seconds=100)
        assert time.monotonic() - started < 90, "returned at its timeout, not when it ended"
        assert (final.structured_content or {})["status"] == "completed", text(final)
        assert text(final).startswith(f"task {task_id} completed; tests 4 passed, 0 failed")

        diff = await call(client, "task_diff", task_id=task_id)
        assert "+    return a + b" in text(diff)
        assert "mathutil.py" in {f["path"] for f in (diff.structured_content or {})["files"]}

        tests = await client.read_resource(f"claudeserver://tasks/{task_id}/tests")
        assert '"failed": 0' in str(tests.contents[0])
        timeline = await client.read_resource(f"claudeserver://tasks/{task_id}/timeline")
        assert "Write add()" in str(timeline.contents[0])
