"""What each client command does, given an `Api` and its parsed arguments."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from claudeserver.client import render
from claudeserver.client.http import Api, ClientError
from claudeserver.vocabulary import Kind

# `submit --follow` exit statuses by how the task ended.
EXIT_STATUS = {"completed": 0, "failed": 1, "cancelled": 2}


def width(out: TextIO) -> int:
    return shutil.get_terminal_size((160, 24)).columns if out.isatty() else 160


def submit(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    project = os.path.normpath(os.path.abspath(args.project_path))
    session_id = _session_for(api, project)
    body: dict[str, Any] = {"session_id": session_id, "description": args.description}
    options = {
        "model": args.model,
        "max_iterations": args.max_iterations,
        "max_budget_usd": args.max_budget_usd,
        "test_command": args.test_command,
        "approvals": args.approvals,
    }
    body.update({k: v for k, v in options.items() if v is not None})
    task = api.post("/api/v1/tasks", body)
    if not args.follow:
        print(task["id"], file=out)
        print(f"follow it with: claudeserver logs {task['id']} --follow", file=sys.stderr)
        return 0
    print(f"submitted task {task['id']} in session {session_id} ({project})", file=out)
    return follow(api, task["id"], out, json_lines=False)


def follow_up(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    # Followed from here on: the earlier attempts' events are not shown again.
    seen = api.get(f"/api/v1/tasks/{args.task_id}")["interactions_total"]
    with _refused("cannot follow up"):
        task = api.post(f"/api/v1/tasks/{args.task_id}/follow-up", {"content": args.request})
    if not args.follow:
        print(f"task {task['id']} queued again (attempt {task['attempt']})", file=out)
        return 0
    return follow(api, task["id"], out, json_lines=False, after=seen)


def comment(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    file, _, line = str(args.where).rpartition(":")
    if not file or not line.isdigit() or int(line) < 1:
        raise ClientError(f"give FILE:LINE, such as src/app.py:42, not {args.where!r}", 2)
    side = "old" if args.old else "new"
    body = {"file": file, "line": int(line), "side": side, "body": args.body}
    with _refused("cannot comment"):
        made = api.post(f"/api/v1/tasks/{args.task_id}/comments", body)
    print(f"comment {made['id']} on {render.comment_place(made)}", file=out)
    return 0


def comments(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    found = api.get(f"/api/v1/tasks/{args.task_id}/comments")
    return _table(found, args, out, None, render.comment_line)


def send_comments(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    seen = api.get(f"/api/v1/tasks/{args.task_id}")["interactions_total"]
    with _refused("cannot send the comments"):
        task = api.post(f"/api/v1/tasks/{args.task_id}/comments/send")
    if not args.follow:
        queued = f"task {task['id']} queued again (attempt {task['attempt']})"
        print(f"comments sent: {queued}", file=out)
        return 0
    return follow(api, task["id"], out, json_lines=False, after=seen)


def _session_for(api: Api, project: str) -> str:
    """Reuse the newest session for this directory, else create one."""
    for session in api.get("/api/v1/sessions"):
        if session["project_path"] == project:
            return str(session["id"])
    return str(api.post("/api/v1/sessions", {"project_path": project})["id"])


def follow(api: Api, task_id: str, out: TextIO, *, json_lines: bool, after: int = 0) -> int:
    """Print the task's events as they happen; the exit status says how it ended."""
    cols = width(out)
    round_results: dict[str, tuple[str, int]] = {}
    final: dict[str, Any] = {}
    for event in api.task_events(task_id, after=after):
        data = event.json()
        if json_lines:
            print(json.dumps({"event": event.event, **data}), file=out, flush=True)
        elif event.event != "done":
            if event.event == "test_result":
                name = str(data.get("content", "")).partition(": ")[2]
                details = data.get("data") or {}
                # Passing regression tests arrive as one event carrying their count.
                round_results[name] = (str(details.get("status")), int(details.get("count", 1)))
            elif round_results:
                # The test round is over once anything else happens: show its tally.
                print(f"     tests      {_tally(round_results)}", file=out)
                round_results.clear()
            print(render.interaction_line(data, cols), file=out, flush=True)
            held = (data.get("data") or {}).get("approval_id")
            if data.get("kind") == Kind.APPROVAL_REQUEST.value and held:
                print(f"     answer     claudeserver approve {held}  (or deny)", file=out)
        if event.event == "done":
            final = data
    if json_lines:
        return EXIT_STATUS.get(str(final.get("status")), 1)
    return _print_outcome(api, task_id, out)


def _tally(results: dict[str, tuple[str, int]]) -> str:
    passed = sum(n for status, n in results.values() if status == "passed")
    failed = sum(n for status, n in results.values() if status != "passed")
    return f"{passed} passed, {failed} failed"


def _print_outcome(api: Api, task_id: str, out: TextIO) -> int:
    task = api.get(f"/api/v1/tasks/{task_id}")
    status = str(task["status"])
    print(f"\ntask {task_id} {status}", file=out)
    if task.get("summary"):
        print(render.clean(str(task["summary"])), file=out)
    print(f"tests: {render.tests_tally(task['test_summary'])}", file=out)
    print(
        f"cost: {render.money(task['cost_usd'])}  tokens: {task['input_tokens']} in / "
        f"{task['output_tokens']} out  iterations: {task['iterations']}",
        file=out,
    )
    if status != "completed":
        for line in render.failing_tests(task["test_cases"]):
            print(line, file=out)
    return EXIT_STATUS.get(status, 1)


def tasks(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    page = api.get("/api/v1/tasks", status=args.status, session_id=args.session, limit=args.limit)
    _table(page["items"], args, out, render.TASK_HEADER, render.task_row)
    if page.get("next_cursor") and not args.json:
        print(f"(showing the newest {args.limit}; raise --limit for more)", file=out)
    return 0


def sessions(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    return _table(api.get("/api/v1/sessions"), args, out, render.SESSION_HEADER, render.session_row)


def show(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    task = api.get(f"/api/v1/tasks/{args.task_id}")
    if args.json:
        print(json.dumps(task, indent=2), file=out)
    else:
        print("\n".join(render.task_details(task, width(out))), file=out)
    return 0


def logs(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    if args.follow:
        follow(api, args.task_id, out, json_lines=args.json)
        return 0
    cols = width(out)
    after: int | None = 0
    while after is not None:
        page = api.get(f"/api/v1/tasks/{args.task_id}/interactions", after=after, limit=1000)
        for item in page["items"]:
            line = json.dumps(item) if args.json else render.interaction_line(item, cols)
            print(line, file=out)
        after = page["next_after"]
    return 0


def cancel(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    with _refused("cannot cancel"):
        status = api.post(f"/api/v1/tasks/{args.task_id}/cancel")
    print(f"task {status['id']} {status['status']}", file=out)
    return 0 if status["status"] == "cancelled" else 1


def delete(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    with _refused("cannot delete"):
        api.delete(f"/api/v1/tasks/{args.task_id}", branch=str(args.branch).lower())
    kept = "" if args.branch else " (its branch stays)"
    print(f"task {args.task_id} deleted{kept}", file=out)
    return 0


def delete_session(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    with _refused("cannot delete"):
        api.delete(f"/api/v1/sessions/{args.session_id}")
    print(f"session {args.session_id} deleted with its tasks (their branches stay)", file=out)
    return 0


def approvals(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    status = None if args.status == "all" else args.status
    if args.task:
        found = api.get(f"/api/v1/tasks/{args.task}/approvals")
        found = [a for a in found if status in (None, a["status"])]
    else:
        found = api.get("/api/v1/approvals", status=status)
    return _table(found, args, out, render.APPROVAL_HEADER, render.approval_row)


def approve(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    return _answer(api, args, out, "allow")


def deny(api: Api, args: argparse.Namespace, out: TextIO) -> int:
    return _answer(api, args, out, "deny")


def _answer(api: Api, args: argparse.Namespace, out: TextIO, decision: str) -> int:
    body = {"decision": decision, "reason": args.reason, "remember": args.remember}
    with _refused(f"cannot {'approve' if decision == 'allow' else 'deny'}"):
        approval = api.post(f"/api/v1/approvals/{args.approval_id}", body)
    kept = f"; remembered: {', '.join(approval['rules'])}" if approval["remember"] else ""
    print(f"approval {approval['id']} {approval['status']}{kept}", file=out)
    return 0


@contextmanager
def _refused(what: str) -> Iterator[None]:
    """A 409 says why the server refused; lead with what could not be done."""
    try:
        yield
    except ClientError as exc:
        if str(exc).startswith("409"):
            raise ClientError(f"{what}: {str(exc).partition(': ')[2]}") from None
        raise


def _table(
    rows: list[dict[str, Any]],
    args: argparse.Namespace,
    out: TextIO,
    header: str | None,
    row: Callable[[dict[str, Any], int], str],
) -> int:
    """The API's JSON with --json, else a line per row fitted to the terminal."""
    if args.json:
        print(json.dumps(rows, indent=2), file=out)
        return 0
    cols = width(out)
    if header is not None:
        print(header, file=out)
    for item in rows:
        print(row(item, cols), file=out)
    return 0
