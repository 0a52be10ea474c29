"""What a webhook's body looks like: the event's JSON as it is ("json"), or a message for a
Slack incoming webhook ("slack"). Any event formats, given its name and payload: "task.<status>"
when a task ends, "approval.waiting" when one waits for a person's answer."""

from __future__ import annotations

from typing import Any, Literal

Format = Literal["json", "slack"]
FORMATS: tuple[Format, ...] = ("json", "slack")

MAX_DESCRIPTION = 150
MAX_TEXT = 1500
_TITLES = {
    "task.completed": ":white_check_mark: Task completed",
    "task.failed": ":x: Task failed",
    "task.cancelled": ":no_entry_sign: Task cancelled",
    "approval.waiting": ":raising_hand: Approval waiting",
}


def task_link(base_url: str, task_id: str) -> str:
    """The task's page on the dashboard."""
    return f"{base_url.rstrip('/')}/#/tasks/{task_id}"


def render(fmt: str, event: str, payload: dict[str, Any], *, link: str) -> dict[str, Any]:
    """The body to POST for `event`; `link` is the task's page."""
    if fmt == "slack":
        return slack_message(event, payload, link=link)
    return {**payload, "url": link}


def slack_message(event: str, payload: dict[str, Any], *, link: str) -> dict[str, Any]:
    """An incoming-webhook message: what happened (with a link to the task), its summary or
    progress, the call it is about, its test counts and cost, as far as the payload has them."""
    title = _TITLES.get(event, event)
    description = _first_line(str(payload.get("description") or "the task"), MAX_DESCRIPTION)
    lines = [f"*{title}*: <{link}|{_escape(description)}>"]
    said = payload.get("summary") or payload.get("progress")
    if said:
        lines.append(_escape(_shortened(str(said), MAX_TEXT)))
    if payload.get("tool") and payload.get("input"):  # a call held for approval
        lines.append(_escape(_shortened(f"{payload['tool']}: {payload['input']}", MAX_TEXT)))
    tests = payload.get("test_summary")
    if isinstance(tests, dict) and tests.get("total"):
        lines.append(_tests(tests))
    if isinstance(payload.get("cost_usd"), (int, float)) and payload["cost_usd"]:
        lines.append(f"Cost: ${payload['cost_usd']:.2f}")
    text = "\n".join(lines)
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def _tests(counts: dict[str, Any]) -> str:
    text = f"Tests: {counts.get('passed', 0)} passed, {counts.get('failed', 0)} failed"
    text += f" of {counts['total']}"
    extra = [f"{counts[key]} {word}" for key, word in (
        ("pre_existing", "already failing before the task"), ("flaky", "flaky"),
    ) if counts.get(key)]  # fmt: skip
    return text + (f" ({', '.join(extra)})" if extra else "")


def _escape(text: str) -> str:
    """Slack reads &, < and > as markup: sent escaped, they stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _first_line(text: str, limit: int) -> str:
    return _shortened(text.strip().splitlines()[0] if text.strip() else text, limit)


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
