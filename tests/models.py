"""Scripted fake models the tests share: an add() task, a stall, a reviewer."""

from __future__ import annotations

from claudeserver.testing import ApiError, ModelRequest, Reply, Rule, ScriptedModel, Stall, Text
from claudeserver.testing.script import Step, ToolUse, bash, write

BUGGY = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
TESTS = (
    "from mathutil import add\n\n"
    "def test_small():\n    assert add(1, 2) == 3\n\n"
    "def test_zero():\n    assert add(0, 0) == 0\n\n"
    "def test_negative():\n    assert add(-1, -1) == -2\n"
)
CONFTEST = "import sys, pathlib\nsys.path.insert(0, str(pathlib.Path(__file__).parents[1]))\n"


def calculator(
    *,
    first: str = BUGGY,
    fix: str = FIXED,
    task_steps: tuple[Step, ...] = (),
    done: str = "I implemented add.",
) -> ScriptedModel:
    """Writes add() (`first`), three tests, and `fix` when shown failing tests.

    The defaults make one round of the fix loop; `fix=BUGGY` never fixes the bug and
    `first=FIXED` passes at once.
    """
    return ScriptedModel(
        [
            Rule("## Task", [*task_steps, write("mathutil.py", first)], done=done),
            Rule(
                "write tests",
                [write("tests/conftest.py", CONFTEST), write("tests/test_mathutil.py", TESTS)],
                done="I wrote three tests.",
            ),
            Rule("Some tests failed", [write("mathutil.py", fix)], done="Fixed the bug."),
        ]
    )


WITH_SUB = FIXED + "\n\ndef sub(a, b):\n    return a - b\n"
SUB_TESTS = (
    "from mathutil import sub\n\n"
    "def test_difference():\n    assert sub(5, 3) == 2\n\n"
    "def test_below_zero():\n    assert sub(1, 2) == -1\n"
)


def adds_sub() -> ScriptedModel:
    """A follow-up round after `calculator`: sub() for the follow-up prompt (its
    "## Follow-up" heading carries the request), then two tests for it in a new file."""
    return ScriptedModel(
        [
            Rule("## Follow-up", [write("mathutil.py", WITH_SUB)], done="I added sub."),
            Rule("write tests", [write("tests/test_sub.py", SUB_TESTS)], done="Two tests."),
        ]
    )


def overloaded(times: int) -> ScriptedModel:
    """A calculator whose API answers 529 `times` times before the implementation."""
    calls = {"n": 0}

    def flaky(request: ModelRequest) -> Reply | ApiError:
        calls["n"] += 1
        if calls["n"] <= times:
            return ApiError(529)
        return Reply(
            [ToolUse("Write", {"file_path": f"{request.cwd}/mathutil.py", "content": FIXED})]
        )

    model = calculator()
    model.rules[0].steps = [flaky]
    return model


def slow_calculator() -> ScriptedModel:
    """Five slow steps before the implementation, so a test can interrupt it mid-task."""
    return calculator(task_steps=tuple(Stall(0.7, then=bash(f"echo step {n}")) for n in range(5)))


def stalling(seconds: float = 60) -> ScriptedModel:
    """Keeps the task running (the model "thinks" for `seconds`) until it is cancelled."""
    return ScriptedModel([Rule("## Task", [Stall(seconds, Reply([Text("Still here.")]))])])


def reviewed(model: ScriptedModel, findings: str) -> ScriptedModel:
    """`model` plus a reviewer that answers the review prompt with `findings` (JSON text)."""
    model.rules = [*model.rules, Rule("Review this change", [], done=findings)]
    return model
