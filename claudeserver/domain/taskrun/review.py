"""The optional code review: a second, read-only agent reads the task's diff once the
tests pass; its findings go on the task."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from claudeserver.agent.events import AgentError, GateDecision, TurnResult
from claudeserver.agent.protocol import AgentConfig, AgentFactory, Answerer, Gate
from claudeserver.domain import gate
from claudeserver.domain.taskrun.journal import Journal
from claudeserver.domain.workspace import Workspace, WorkspaceError
from claudeserver.domain.workspace import diff as workspace_diff
from claudeserver.policy import PolicyConfig

SEVERITIES = ("info", "warning", "error")
READ_ONLY_TOOLS = frozenset({"Read", "Grep", "Glob", "LS", "TodoWrite"})
MAX_DIFF_CHARS = 60_000
_ARRAY = re.compile(r"\[.*\]", re.DOTALL)


@dataclass(frozen=True)
class Finding:
    severity: str
    file: str | None
    line: int | None
    comment: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def review_prompt(description: str, diff: str) -> str:
    shown = diff if len(diff) <= MAX_DIFF_CHARS else diff[:MAX_DIFF_CHARS] + "\n[diff truncated]"
    return (
        "Review this change as a careful senior engineer. You may read files but not change "
        "anything.\n\n"
        f"## Task it implements\n{description}\n\n## Diff\n```diff\n{shown}\n```\n\n"
        "Answer with ONLY a JSON array of findings, each "
        '{"severity": "info"|"warning"|"error", "file": "path", "line": 12, "comment": "..."}. '
        "Answer [] when you find nothing worth mentioning."
    )


def parse_findings(text: str) -> list[Finding]:
    """Findings from the reviewer's answer; tolerant of prose around the JSON array.

    An answer with no usable JSON becomes one `info` finding carrying the text, so a
    review is never silently lost.
    """
    match = _ARRAY.search(text)
    try:
        items = json.loads(match.group(0)) if match else None
    except ValueError:
        items = None
    if not isinstance(items, list):
        return [Finding("info", None, None, text.strip())] if text.strip() else []
    findings = []
    for item in items:
        if not isinstance(item, dict) or not str(item.get("comment") or "").strip():
            continue
        severity = str(item.get("severity", "info")).lower()
        line = item.get("line")
        findings.append(
            Finding(
                severity=severity if severity in SEVERITIES else "info",
                file=str(item["file"]) if item.get("file") else None,
                line=line if isinstance(line, int) and line > 0 else None,
                comment=str(item["comment"]).strip(),
            )
        )
    return findings


async def review(
    agents: AgentFactory,
    config: AgentConfig,
    *,
    description: str,
    workspace: Workspace,
    policy: PolicyConfig,
    journal: Journal,
    answer: Answerer,
) -> None:
    journal.progress("Reviewing the change")
    try:
        change = await asyncio.to_thread(workspace_diff, workspace)
        journal.process_started()
        async with agents(config, _read_only(policy), answer) as reviewer:
            await reviewer.send(review_prompt(description, change))
            text = ""
            async for event in reviewer.turn():
                # The reviewer's conversation is not the task's: a follow-up resumes the
                # main one, and deleting the task removes that one's transcript.
                if isinstance(event, TurnResult):
                    journal.account(event, main=False)
                    text = event.text
                else:
                    journal.store(event, main=False)
        findings = parse_findings(text)
    except (AgentError, WorkspaceError) as exc:
        findings = [Finding("info", None, None, f"The review could not run: {exc}")]
    with journal.unit() as w:
        w.update(review_findings=[f.to_json() for f in findings])


def _read_only(policy: PolicyConfig) -> Gate:
    """The reviewer only reads, and only what the policy lets the agent read."""

    async def check(tool_name: str, tool_input: dict[str, Any], cwd: Path | None) -> GateDecision:
        if tool_name not in READ_ONLY_TOOLS:
            return GateDecision(False, "denied: the review is read-only; answer with your findings")
        decision = await gate.check(tool_name, tool_input, policy, cwd=cwd)
        if not decision.allowed:
            return GateDecision(False, decision.reason)
        return GateDecision(True, "allowed: reading during the review")

    return check
