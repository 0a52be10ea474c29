"""The MCP tools and resources, each one or a few calls of the REST API.

Every tool answers with the API's JSON as structured content plus one short line of text
for a model to read; a refusal is a tool error with the API's message.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from claudeserver.mcp_server.rest import Rest, present
from claudeserver.vocabulary import TERMINAL

# Opens a REST client speaking for the caller of this request.
Connect = Callable[[Context], AbstractAsyncContextManager[Rest]]

Status = Literal["pending", "running", "paused", "testing", "completed", "failed", "cancelled"]
FINAL = frozenset(s.value for s in TERMINAL)
POLL_SECONDS = 1.0
TaskId = Annotated[str, Field(min_length=1, max_length=64, description="the task's id")]
Content = Annotated[str, Field(min_length=1, description="what to tell the agent")]
READ_ONLY = ToolAnnotations(read_only_hint=True)
TIMELINE_PAGE = 1000


def build(connect: Connect) -> MCPServer:
    server: MCPServer = MCPServer(
        "claudeserver",
        instructions="Hand coding tasks to claudeserver: it runs the Claude Code agent on a "
        "project unattended, tests the result and loops until the tests pass. Submit a "
        "task, then wait_for_task (repeat while it is still running) and read task_diff.",
    )

    @server.tool(annotations=READ_ONLY)
    async def list_sessions(ctx: Context) -> CallToolResult:
        """The sessions (projects) tasks run in, newest first."""
        async with connect(ctx) as api:
            sessions = await api.get("/api/v1/sessions")
        lines = [f"{s['id']}  {s['project_path']}" for s in sessions]
        return _result({"sessions": sessions}, f"{len(sessions)} sessions", *lines)

    @server.tool()
    async def create_session(
        ctx: Context,
        project_path: Annotated[
            str | None, Field(description="absolute path of a directory on the server's machine")
        ] = None,
        repo_url: Annotated[
            str | None,
            Field(description="instead of project_path: a git URL the server clones"),
        ] = None,
    ) -> CallToolResult:
        """Create a session for a project: give exactly one of project_path and repo_url."""
        async with connect(ctx) as api:
            session = await api.post(
                "/api/v1/sessions", present({"project_path": project_path, "repo_url": repo_url})
            )
        return _result(session, f"session {session['id']} for {session['project_path']}")

    @server.tool()
    async def submit_task(
        ctx: Context,
        description: Annotated[str, Field(min_length=1, description="what the agent should do")],
        project_path: Annotated[
            str | None,
            Field(
                description="the project directory: its newest session is used, or one is created"
            ),
        ] = None,
        session_id: Annotated[str | None, Field(description="instead of project_path")] = None,
        model: Annotated[str | None, Field(description="Claude model for this task")] = None,
        max_iterations: Annotated[int | None, Field(description="agent turns allowed")] = None,
        max_budget_usd: Annotated[float | None, Field(description="spend limit in USD")] = None,
        test_command: Annotated[
            str | None, Field(description="command that runs the project's tests")
        ] = None,
    ) -> CallToolResult:
        """Submit a coding task; it runs in the background. Follow it with wait_for_task."""
        if (project_path is None) == (session_id is None):
            raise ToolError("give exactly one of project_path and session_id")
        async with connect(ctx) as api:
            if session_id is None:
                assert project_path is not None
                session_id = await _session_for(api, os.path.normpath(project_path))
            task = await api.post(
                "/api/v1/tasks",
                present(
                    {
                        "session_id": session_id,
                        "description": description,
                        "model": model,
                        "max_iterations": max_iterations,
                        "max_budget_usd": max_budget_usd,
                        "test_command": test_command,
                    }
                ),
            )
        warnings = [f"warning: {w}" for w in task.get("warnings", [])]
        return _result(task, f"task {task['id']} submitted ({task['status']})", *warnings)

    @server.tool(annotations=READ_ONLY)
    async def task_status(ctx: Context, task_id: TaskId) -> CallToolResult:
        """A task's status, current progress, summary and test tally."""
        async with connect(ctx) as api:
            status = await api.get(f"/api/v1/tasks/{task_id}/status")
        return _status_result(status)

    @server.tool(annotations=READ_ONLY)
    async def wait_for_task(
        ctx: Context,
        task_id: TaskId,
        timeout_seconds: Annotated[
            float, Field(ge=0, le=1800, description="how long to wait at most")
        ] = 300,
    ) -> CallToolResult:
        """Wait until the task ends or the timeout passes; returns its final status, or its
        current progress when it is still going (then call again)."""
        deadline = time.monotonic() + timeout_seconds
        async with connect(ctx) as api:
            while True:
                status = await api.get(f"/api/v1/tasks/{task_id}/status")
                left = deadline - time.monotonic()
                if status["status"] in FINAL or left <= 0:
                    return _status_result(status)
                await asyncio.sleep(min(POLL_SECONDS, left))

    @server.tool(annotations=READ_ONLY)
    async def task_diff(ctx: Context, task_id: TaskId) -> CallToolResult:
        """The task's changes against where it started, as a patch (works while it runs)."""
        async with connect(ctx) as api:
            patch = await api.text(f"/api/v1/tasks/{task_id}/diff")
            stat = await api.get(f"/api/v1/tasks/{task_id}/diff", format="stat")
        return _result({"patch": patch, **stat}, patch or "(no changes)")

    @server.tool()
    async def follow_up(ctx: Context, task_id: TaskId, content: Content) -> CallToolResult:
        """Continue a finished task with a new request, in the same workspace."""
        async with connect(ctx) as api:
            task = await api.post(f"/api/v1/tasks/{task_id}/follow-up", {"content": content})
        return _result(task, f"task {task['id']} queued again (attempt {task['attempt']})")

    @server.tool()
    async def send_message(ctx: Context, task_id: TaskId, content: Content) -> CallToolResult:
        """Tell a running task's agent something; it reads it at its next turn."""
        async with connect(ctx) as api:
            sent = await api.post(f"/api/v1/tasks/{task_id}/messages", {"content": content})
        return _result(sent, f"message {sent['sequence']} queued for task {task_id}")

    @server.tool()
    async def cancel_task(ctx: Context, task_id: TaskId) -> CallToolResult:
        """Cancel a task that has not ended."""
        async with connect(ctx) as api:
            status = await api.post(f"/api/v1/tasks/{task_id}/cancel")
        return _status_result(status)

    @server.tool(annotations=READ_ONLY)
    async def list_tasks(
        ctx: Context,
        status: Status | None = None,
        limit: Annotated[int, Field(ge=1, le=500)] = 20,
    ) -> CallToolResult:
        """Tasks, newest first, optionally only those with one status."""
        async with connect(ctx) as api:
            page = await api.get("/api/v1/tasks", status=status, limit=limit)
        tasks = page["items"]
        lines = [f"{t['id']}  {t['status']:<9}  {_first_line(t['description'])}" for t in tasks]
        return _result({"tasks": tasks}, f"{len(tasks)} tasks", *lines)

    @server.tool(annotations=READ_ONLY)
    async def list_approvals(
        ctx: Context,
        status: Literal["pending", "allowed", "denied", "expired"] | None = "pending",
        limit: Annotated[int, Field(ge=1, le=500)] = 50,
    ) -> CallToolResult:
        """Grey-zone tool calls of sessions with approvals "human": by default the ones
        an agent is held at, waiting for an answer."""
        async with connect(ctx) as api:
            found = await api.get("/api/v1/approvals", status=status, limit=limit)
        lines = [f"{a['id']}  {a['status']:<8} {a['tool']}: {a['input_summary']}" for a in found]
        return _result({"approvals": found}, f"{len(found)} approvals", *lines)

    @server.tool()
    async def answer_approval(
        ctx: Context,
        approval_id: Annotated[str, Field(min_length=1, max_length=64)],
        decision: Literal["allow", "deny"],
        reason: Annotated[str | None, Field(description="told to the agent")] = None,
        remember: Annotated[
            bool, Field(description="add a rule to the session: the call is not asked again")
        ] = False,
    ) -> CallToolResult:
        """Allow or deny the call an agent is held at; the agent goes on with the answer."""
        body = present({"decision": decision, "reason": reason, "remember": remember})
        async with connect(ctx) as api:
            approval = await api.post(f"/api/v1/approvals/{approval_id}", body)
        return _result(approval, f"approval {approval_id} {approval['status']}")

    @server.resource(
        "claudeserver://tasks/{task_id}/timeline",
        mime_type="application/json",
        description="Everything that happened in a task: prompts, agent messages, tool "
        "calls, test results, in order.",
    )
    async def timeline(task_id: str, ctx: Context) -> str:
        items: list[dict[str, Any]] = []
        after: int | None = 0
        async with connect(ctx) as api:
            while after is not None:
                page = await _read(
                    api.get(f"/api/v1/tasks/{task_id}/interactions", after=after,
                            limit=TIMELINE_PAGE)
                )  # fmt: skip
                items.extend(page["items"])
                after = page["next_after"]
        return json.dumps(items)

    @server.resource(
        "claudeserver://tasks/{task_id}/tests",
        mime_type="application/json",
        description="A task's test results: the tally and every test case.",
    )
    async def tests(task_id: str, ctx: Context) -> str:
        async with connect(ctx) as api:
            task = await _read(api.get(f"/api/v1/tasks/{task_id}"))
        return json.dumps({"summary": task["test_summary"], "cases": task["test_cases"]})

    return server


async def _session_for(api: Rest, project: str) -> str:
    """Reuse the newest session for this directory, else create one (as `claudeserver
    submit` does)."""
    for session in await api.get("/api/v1/sessions"):
        if session["project_path"] == project:
            return str(session["id"])
    return str((await api.post("/api/v1/sessions", {"project_path": project}))["id"])


async def _read(call: Awaitable[Any]) -> Any:
    """A resource's REST call: a refusal is a resource error with the API's message."""
    try:
        return await call
    except ToolError as exc:
        raise ResourceError(str(exc)) from None


def _status_result(status: dict[str, Any]) -> CallToolResult:
    tests = status["test_summary"]
    tally = f"tests {tests['passed']} passed, {tests['failed']} failed"
    detail = status.get("summary") if status["status"] in FINAL else status.get("progress")
    head = f"task {status['id']} {status['status']}; {tally}"
    return _result(status, head, *([_first_line(detail)] if detail else []))


def _result(data: dict[str, Any], *lines: str) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text="\n".join(lines))], structured_content=data
    )


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else ""
