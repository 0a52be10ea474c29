"""The benchmark's task: a tiny Python project and the fake model's script for it.

Every turn makes at most two tool calls, so the simulated human never pauses (the floor
script has no such pauses either), and the script writes correct code, so one test round
passes: baseline, implement turn, tests turn, one pytest round — nothing more.
"""

from __future__ import annotations

from pathlib import Path

from claudeserver.testing import Rule, ScriptedModel, Stall
from claudeserver.testing.script import bash, write

DESCRIPTION = "Add an add(a, b) function in mathutil.py"
# Tasks that stay busy (for latency and memory under load) say this in their description.
BUSY_MARKER = "BUSY-TASK"
BUSY_DESCRIPTION = f"{BUSY_MARKER}: run a long series of checks, then add add(a, b)"

IMPLEMENTATION = "def add(a, b):\n    return a + b\n"
TESTS = (
    "from mathutil import add\n\n"
    "def test_small():\n    assert add(1, 2) == 3\n\n"
    "def test_zero():\n    assert add(0, 0) == 0\n"
)
TESTS_FILE = "tests/test_mathutil.py"
CONFTEST = "import sys, pathlib\nsys.path.insert(0, str(pathlib.Path(__file__).parents[1]))\n"

# A busy task's steps: each waits a little "model time" and runs a command, so the server
# stores a steady trickle of interactions for as long as the measurement needs.
BUSY_STEPS = 400
BUSY_STEP_SECONDS = 0.25


def make_project(root: Path) -> Path:
    """A project with one regression test, like a user's repository (plain folder, no git)."""
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_existing.py").write_text(
        "def test_existing():\n    assert 1 + 1 == 2\n"
    )
    return root


def model() -> ScriptedModel:
    busy = tuple(Stall(BUSY_STEP_SECONDS, then=bash(f"echo check {n}")) for n in range(BUSY_STEPS))
    return ScriptedModel(
        [
            Rule("## Task", [write("mathutil.py", IMPLEMENTATION)], done="I implemented add."),
            # Added later, so it wins over the plain "## Task" rule for busy tasks.
            Rule(BUSY_MARKER, [*busy, write("mathutil.py", IMPLEMENTATION)], done="Done."),
            Rule(
                "write tests",
                [write("tests/conftest.py", CONFTEST), write(TESTS_FILE, TESTS)],
                done="I wrote two tests.",
            ),
        ]
    )
