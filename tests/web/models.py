"""Scripted fake models shared by the browser and CLI tests."""

from __future__ import annotations

from claudeserver.testing import Reply, Rule, ScriptedModel, Stall, Text
from claudeserver.testing.script import Step, write

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
    *, fixed_at_once: bool = True, task_steps: tuple[Step, ...] = (), done: str = "I added add."
) -> ScriptedModel:
    """Writes add() and three tests; `fixed_at_once=False` writes a bug it never fixes."""
    code = FIXED if fixed_at_once else BUGGY
    return ScriptedModel(
        [
            Rule("## Task", [*task_steps, write("mathutil.py", code)], done=done),
            Rule(
                "write tests",
                [write("tests/conftest.py", CONFTEST), write("tests/test_mathutil.py", TESTS)],
                done="I wrote three tests.",
            ),
            Rule("Some tests failed", [write("mathutil.py", code)], done="Fixed it."),
        ]
    )


def stalling(seconds: float = 60) -> ScriptedModel:
    """Keeps the task running (the model "thinks" for `seconds`) until it is cancelled."""
    return ScriptedModel([Rule("## Task", [Stall(seconds, Reply([Text("Still here.")]))])])


def reviewed(model: ScriptedModel, findings: str) -> ScriptedModel:
    """`model` plus a reviewer that answers the review prompt with `findings` (JSON text)."""
    model.rules = [*model.rules, Rule("Review this change", [], done=findings)]
    return model
