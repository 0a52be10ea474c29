"""When a conversation outgrows the model's context window: a fresh one, told where the
work stands.

Claude Code compacts long conversations itself; this is for when the API still answers
that the prompt is too long (or compaction keeps refilling the window).
"""

from __future__ import annotations

from collections.abc import Sequence

from claudeserver.agent.events import TurnResult
from claudeserver.domain.human import RULES, UNATTENDED
from claudeserver.domain.workspace import FileStat

# Fresh conversations per attempt, before the task fails: each one costs a whole hand-off.
MAX_CONTEXT_RESTARTS = 3
# How much of the hand-off's parts to carry over.
LAST_PROMPT_CHARS, SUMMARY_CHARS, CHANGED_FILES, FAILING_TESTS = 8_000, 4_000, 50, 20

_CONTEXT_FULL = ("prompt is too long", "autocompact is thrashing")


def context_full(result: TurnResult) -> bool:
    """The turn failed because the conversation no longer fits the context window."""
    text = (result.text or "; ".join(result.errors)).lower()
    return any(phrase in text for phrase in _CONTEXT_FULL)


def hand_off_prompt(
    *,
    task: str,
    changes: Sequence[FileStat],
    failing: Sequence[str],
    summary: str,
    last_prompt: str,
) -> str:
    """The first message of the fresh conversation. `task` is the task (with a follow-up's
    request), `last_prompt` what the old conversation was answering when it ran out."""
    files = [
        f"- {c.path} (+{c.added if c.added is not None else '?'} "
        f"-{c.removed if c.removed is not None else '?'})"
        for c in changes[:CHANGED_FILES]
    ]
    if len(changes) > CHANGED_FILES:
        files.append(f"- … and {len(changes) - CHANGED_FILES} more files")
    tests = [f"- {name}" for name in failing[:FAILING_TESTS]]
    if len(failing) > FAILING_TESTS:
        tests.append(f"- … and {len(failing) - FAILING_TESTS} more")
    return "\n\n".join(
        [
            f"{UNATTENDED}## Hand-off\nThe previous conversation about this task grew too "
            "long for the model's context window, so you continue it in a fresh one. The "
            "project's files are as the previous conversation left them: read what you need, "
            "do not start over.",
            task,
            "## Changes so far\n" + ("\n".join(files) or "None yet."),
            "## Failing tests\n" + ("\n".join(tests) or "None known."),
            "## Your last summary\n" + (summary[:SUMMARY_CHARS].strip() or "None."),
            "## What you were asked last\n" + last_prompt[:LAST_PROMPT_CHARS],
            RULES,
        ]
    )
