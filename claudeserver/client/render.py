"""Plain-text rendering of tasks and interactions for a terminal.

Everything shown may come from the agent, so it is cleaned of control characters
first: an escape sequence in a tool's output must not drive the user's terminal.
"""

from __future__ import annotations

import json
import re
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s+")

LABELS = {
    ("system", "status"): "status",
    ("system", "progress"): "progress",
    ("assistant", "text"): "assistant",
    ("assistant", "tool_use"): "tool call",
    ("assistant", "result"): "result",
    ("assistant", "error"): "error",
    ("tool", "tool_result"): "output",
    ("tool", "tool_error"): "tool error",
    ("permission", "allow"): "allowed",
    ("permission", "deny"): "DENIED",
    ("human", "prompt"): "prompt",
    ("human", "continuation"): "human",
    ("human", "answer"): "human",
    ("user", "message"): "you",
    ("user", "follow_up"): "follow-up",
    ("user", "comment"): "comment",
    ("system", "comment"): "comments",
    ("test", "test_result"): "test",
    ("test", "baseline"): "baseline",
    ("test", "round"): "test round",
    ("system", "compaction"): "compacted",
    ("system", "context_restart"): "fresh start",
    ("permission", "approval_request"): "WAITING",
    ("user", "approval"): "you",
    ("human", "approval"): "human",
    ("system", "approval"): "expired",
}


# Verdicts worth a word next to a test's result: it is not simply new or unchanged.
NOTED_VERDICTS = ("regression", "pre_existing", "fixed", "flaky")


def clean(text: str) -> str:
    """Printable text, with control characters other than newline and tab shown as '?'."""
    return _CONTROL.sub("?", text)


def one_line(text: str, width: int) -> str:
    flat = _SPACE.sub(" ", clean(text)).strip()
    return flat if len(flat) <= width else flat[: max(width - 1, 0)] + "…"


def interaction_line(item: dict[str, Any], width: int) -> str:
    """`  12 tool call  Bash: pytest -q` for one interaction (an API item or SSE data)."""
    role, kind = str(item.get("role")), str(item.get("kind"))
    label = LABELS.get((role, kind), f"{role} {kind}")
    text = _describe(role, kind, str(item.get("content") or ""), item.get("data") or {})
    head = f"{item.get('sequence', ''):>4} {label:<10} "
    return head + one_line(text, max(width - len(head), 20))


def _describe(role: str, kind: str, content: str, data: dict[str, Any]) -> str:
    if role == "system" and content == kind:
        return ""  # a notice such as `init` says all in its label
    if kind == "tool_use":
        return f"{content}: {tool_input_summary(data.get('input'))}"
    if role == "permission":
        tool = data.get("tool", "")
        return f"{tool} {tool_input_summary(data.get('input'))} ({content})"
    if kind == "status" and data.get("progress"):
        return f"{content} - {data['progress']}"
    if kind == "result" and "cost_usd" in data:
        return f"{content} [cost so far ${float(data['cost_usd']):.4f}]"
    if kind == "test_result" and data.get("type"):
        duration = data.get("duration")
        took = f" ({float(duration):.2f}s)" if isinstance(duration, int | float) else ""
        noted = f" ({data['verdict']})" if data.get("verdict") in NOTED_VERDICTS else ""
        return f"{content} [{data['type']}]{took}{noted}"
    return content


def tool_input_summary(value: Any) -> str:
    """The part of a tool's input a person wants to see: the command or the file."""
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    for key in ("command", "file_path", "path", "pattern", "url"):
        if key in value:
            return str(value[key])
    return json.dumps(value, ensure_ascii=False, default=str)


def money(value: Any) -> str:
    return f"${float(value or 0):.4f}"


def task_row(task: dict[str, Any], width: int) -> str:
    cost = money(task.get("cost_usd"))
    head = f"{task['id']:<36}  {task['status']:<9}  {_created(task)}  {cost:>9}  "
    return _row(head, str(task.get("description", "")), width)


TASK_HEADER = f"{'ID':<36}  {'STATUS':<9}  {'CREATED':<19}  {'COST':>9}  DESCRIPTION"


def session_row(session: dict[str, Any], width: int) -> str:
    head = f"{session['id']:<36}  {session['isolation']:<9}  {_created(session)}  "
    return _row(head, str(session.get("repo_url") or session["project_path"]), width)


SESSION_HEADER = f"{'ID':<36}  {'ISOLATION':<9}  {'CREATED':<19}  PROJECT"


def approval_row(approval: dict[str, Any], width: int) -> str:
    """A pending approval also says what the simulated human answers if nobody does."""
    unanswered = approval["unattended"] if approval["status"] == "pending" else ""
    status, created = approval["status"], _created(approval)
    head = f"{approval['id']:<36}  {status:<8}  {unanswered:<10}  {created}  "
    return _row(head, f"{approval['tool']}: {approval['input_summary']}", width)


APPROVAL_HEADER = f"{'ID':<36}  {'STATUS':<8}  {'UNANSWERED':<10}  {'CREATED':<19}  CALL"


def comment_place(comment: dict[str, Any]) -> str:
    """ "src/x.py:42", or "src/x.py:42 (before the task)" for a line of the old file."""
    where = clean(f"{comment['file']}:{comment['line']}")
    return where + (" (before the task)" if comment["side"] == "old" else "")


def comment_line(comment: dict[str, Any], width: int) -> str:
    """`<id>  open  src/x.py:42  body` for one review comment."""
    state = (
        "addressed" if comment["addressed"] else "resolved" if comment["resolved"]
        else "sent" if comment["in_round"] else "open"
    )  # fmt: skip
    return _row(f"{comment['id']}  {state:<9}  {comment_place(comment)}  ", comment["body"], width)


def _created(row: dict[str, Any]) -> str:
    return f"{str(row['created_at'])[:19]:<19}"


def _row(head: str, rest: str, width: int) -> str:
    """Fixed columns, then the rest on what is left of the line."""
    return head + one_line(rest, max(width - len(head), 20))


def tests_tally(summary: dict[str, Any]) -> str:
    tally = (
        f"{summary.get('total', 0)} total, {summary.get('passed', 0)} passed, "
        f"{summary.get('failed', 0)} failed, {summary.get('pending', 0)} pending"
    )
    judged = [
        f"{summary[key]} {words}"
        for key, words in (
            ("pre_existing", "already failing before the task"),
            ("fixed", "fixed"),
            ("flaky", "flaky"),
        )
        if summary.get(key)
    ]
    return "; ".join([tally, *judged])


def failing_tests(cases: list[dict[str, Any]], limit: int = 20) -> list[str]:
    """Failing tests, those failing before the task apart; `limit` names of each."""
    lines = []
    failing = [c for c in cases if c["status"] in ("failed", "error")]
    for title, pre_existing in (
        ("failing tests:", False),
        ("already failing before the task:", True),
    ):
        names = [c["name"] for c in failing if (c.get("verdict") == "pre_existing") == pre_existing]
        if names:
            lines.append(title)
            lines += [f"  {clean(name)}" for name in names[:limit]]
            if len(names) > limit:
                lines.append(f"  … and {len(names) - limit} more")
    return lines


def _seconds(value: Any) -> str:
    return f"{value:.2f}s" if isinstance(value, int | float) else "-"


def task_details(task: dict[str, Any], width: int) -> list[str]:
    """`claudeserver show`: the fields, then the test table with failures' output."""
    lines = [
        f"task        {task['id']}",
        f"status      {task['status']}",
        f"session     {task['session_id']}",
        f"created     {task['created_at']}",
        f"started     {task.get('started_at') or '-'}",
        f"finished    {task.get('completed_at') or '-'}",
        f"model       {clean(str(task.get('model') or 'default'))}",
        f"attempt     {task.get('attempt')}  iterations {task.get('iterations')}  "
        f"pauses {task.get('pauses')}  test rounds {task.get('test_rounds')}  "
        f"context restarts {task.get('context_restarts', 0)}",
        f"cost        {money(task.get('cost_usd'))}  tokens {task.get('input_tokens', 0)} in / "
        f"{task.get('output_tokens', 0)} out",
        f"progress    {one_line(str(task.get('progress') or '-'), width - 12)}",
        "description " + _indented(str(task["description"])),
    ]
    if task.get("summary"):
        lines.append("summary     " + _indented(str(task["summary"])))
    if task.get("error") and task.get("error") != task.get("summary"):
        lines.append("error       " + _indented(str(task["error"])))
    lines.append(f"tests       {tests_tally(task.get('test_summary') or {})}")
    rounds = task.get("round_durations") or []
    lines.append(
        f"test time   baseline {_seconds(task.get('baseline_duration'))}  rounds "
        + (" ".join(_seconds(r) for r in rounds) or "-")
    )
    for case in task.get("test_cases") or []:
        took = _seconds(case.get("duration"))
        what = str(case.get("verdict") or "").replace("_", "-")
        lines.append(
            f"  {case['status']:<8} {case['type']:<10} {what:<12} {took:>7}  "
            + one_line(case["name"], width)
        )
        if (case["status"] in ("failed", "error") or case.get("flaky")) and case.get("output"):
            lines += ["      " + clean(x) for x in str(case["output"]).splitlines()[-20:]]
    return lines


def _indented(text: str) -> str:
    return clean(text).replace("\n", "\n            ")
