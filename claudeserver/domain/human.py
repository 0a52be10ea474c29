"""The simulated human at the keyboard: what it says to the agent, and when.

Its phrases double as the contract with scripted test models (they look for
"## Task", "write tests", "tests failed"), so change them with care.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from claudeserver.domain.testrun import TestResult

MIN_TESTS, MAX_TESTS = 2, 5
# Failure feedback stays readable however much fails: this many tests, this much text.
FEEDBACK_TESTS, FEEDBACK_CHARS, FEEDBACK_CHARS_PER_TEST = 20, 16_000, 1_500

# How every first prompt of an attempt begins and ends.
UNATTENDED = (
    "You are working unattended: nobody will answer questions, so make reasonable "
    "decisions yourself and finish the job.\n\n"
)
RULES = (
    "Work only inside the project directory. Do not modify existing tests, and do not "
    "commit: your changes are committed for you. You will be asked for tests afterwards."
)

CONTINUATIONS = (
    "Looking good so far. Keep going until the task is completely done.",
    "Nice progress. Carry on with the next step.",
    "You're on the right track. Please continue.",
    "Good work. Keep going, and check your changes as you go.",
)
ENCOURAGEMENTS = (
    "You have everything you need to finish this on your own. Please make the decision "
    "yourself and complete the task without waiting for confirmation.",
    "Don't stop here: you can do this. Choose the most reasonable approach and finish the "
    "task without waiting for confirmation.",
)
_HEDGES = re.compile(
    r"\b(should I|shall I|would you like|do you want|let me know|I can't|I cannot|"
    r"I'm unable|I am unable|unable to proceed|before I proceed|please confirm)\b",
    re.IGNORECASE,
)


@dataclass
class SimulatedHuman:
    """Keeps the 3-5 interaction rhythm; `seed` makes it repeatable in tests."""

    seed: int | None = None
    rng: random.Random = field(init=False)
    next_pause_at: int = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.next_pause_at = self._gap()

    def _gap(self) -> int:
        return self.rng.randint(3, 5)

    def wants_pause(self, interactions_since_human: int) -> bool:
        return interactions_since_human >= self.next_pause_at

    def continuation(self) -> str:
        self.next_pause_at = self._gap()
        return self.rng.choice(CONTINUATIONS)

    def encouragement(self) -> str:
        self.next_pause_at = self._gap()
        return self.rng.choice(ENCOURAGEMENTS)

    @staticmethod
    def hedges(text: str) -> bool:
        """The agent stopped to ask or gave up instead of finishing."""
        return bool(_HEDGES.search(text)) or text.rstrip().endswith("?")

    @staticmethod
    def first_prompt(description: str) -> str:
        return (
            f"{UNATTENDED}## Task\n{description}\n\nImplement the task in this project now. {RULES}"
        )

    @staticmethod
    def follow_up_prompt(description: str, request: str) -> str:
        return (
            f"{UNATTENDED}## Task\n{description}\n\n"
            "That task is done and its work is in this project. The user now asks for more:\n\n"
            f"## Follow-up\n{request}\n\nMake this change now. {RULES}"
        )

    @staticmethod
    def tests_request(framework_hint: str) -> str:
        return (
            f"Thanks. Now write tests for this task: between {MIN_TESTS} and {MAX_TESTS} "
            f"{framework_hint}. Do not change existing test files. Please write tests now."
        )

    @staticmethod
    def test_count_fix(found: int) -> str:
        return (
            f"I found {found} test case(s) in the test files you wrote, but I need between "
            f"{MIN_TESTS} and {MAX_TESTS}. Please adjust the tests you wrote for this task "
            "(write them in new test files; do not touch existing ones)."
        )

    @staticmethod
    def failure_feedback(
        failures: Sequence[TestResult], baseline: Mapping[str, str] | None = None
    ) -> str:
        """What to fix, compact however many tests fail: each test's assertion and the end
        of its traceback, bounded per test and in total. `baseline` (test id -> outcome
        before the task) says which failures are regressions or required old failures."""
        before = baseline or {}
        lines = [
            f"Some tests failed ({len(failures)}). Fix the implementation so that all tests "
            "pass. Do not edit the pre-existing regression tests.",
            "",
        ]
        size = 0
        for shown, result in enumerate(failures):
            block = [
                f"### {result.name} ({_why(result.status, before.get(result.name))})",
                _excerpt(result.output or "", FEEDBACK_CHARS_PER_TEST),
                "",
            ]
            size += sum(len(line) + 1 for line in block)
            if shown == FEEDBACK_TESTS or size > FEEDBACK_CHARS:
                lines.append(f"({len(failures) - shown} more failing tests left out.)")
                break
            lines += block
        return "\n".join(lines).rstrip()

    @staticmethod
    def error_guidance(error: str) -> str:
        return (
            f"The last step failed: {error[:500]}\n"
            "That happens. Please continue where you left off; if it keeps failing, "
            "take a different approach."
        )

    @staticmethod
    def denial_guidance(reason: str) -> str:
        return (
            f"Permission denied by the supervisor: {reason}. Do not try to work around this; "
            "achieve the goal another way, inside the project directory."
        )

    @staticmethod
    def answer(questions: Sequence[dict[str, Any]]) -> dict[str, str]:
        """Answer each question with its first option (the agent's own recommendation)."""
        answers: dict[str, str] = {}
        for question in questions:
            options = question.get("options") or []
            label = options[0].get("label") if options and isinstance(options[0], dict) else None
            answers[str(question.get("question", ""))] = str(
                label or "Use your best judgement and proceed."
            )
        return answers


def _why(status: str, before: str | None) -> str:
    if before == "passed":
        return f"{status}; it passed before your change"
    if before in ("failed", "error"):
        return f"{status}; it failed before the task too, but this session requires it to pass"
    if before is not None:
        return f"{status}; it was {before} before your change"
    return status


def _excerpt(output: str, limit: int) -> str:
    """The first line (pytest puts the assertion there) and the end of the traceback."""
    if len(output) <= limit:
        return output
    head = output.splitlines()[0][: limit // 4]
    return f"{head}\n[…]\n{output[-(limit - len(head) - 5) :]}"
