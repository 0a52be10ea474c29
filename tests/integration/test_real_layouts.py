"""Issue 15 end to end, real CLI and fake model, on the layout most real projects have: a
git repository with a src/ package installed editable into its own (ignored) .venv. Each
task runs in a worktree; the tests must import the worktree's code, never the checkout's."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claudeserver.testing import FakeAnthropic, Rule, ScriptedModel
from claudeserver.testing.fake_anthropic import Model
from claudeserver.testing.script import write
from tests.conftest import submit, wait_for

pytestmark = pytest.mark.agent

SAMPLE = Path(__file__).parents[1] / "testrun" / "samples" / "pysrc"
MEAN = "def mean(values: list[int]) -> float:\n    return sum(values) / len(values)\n"
MEAN_TESTS = (
    "from tally.stats import mean\n\n"
    "def test_mean():\n    assert mean([1, 2, 3]) == 2\n\n"
    "def test_mean_one():\n    assert mean([5]) == 5\n"
)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=U", "-c", "user.email=u@example.test", *args],
        cwd=repo, check=True, capture_output=True,
    )  # fmt: skip


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The user's checkout: a repository with `pip install -e .` in its ignored .venv."""
    root = Path(shutil.copytree(SAMPLE, tmp_path / "tally"))
    (root / ".gitignore").write_text(".venv/\n*.egg-info/\n")
    _git(root, "init", "-q", "--initial-branch=main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "tally")
    venv = root / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    [site] = venv.glob("lib/python*/site-packages")
    (site / "outer.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # pytest
    subprocess.run(
        [
            sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install",
            "--quiet", "--no-index", "--no-build-isolation", "--no-deps", "-e", root,
        ],
        check=True, capture_output=True,
    )  # fmt: skip
    return root


def test_the_agents_new_module_is_tested_from_the_worktree(
    api: TestClient, checkout: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    """(a) The editable install points at the checkout, which has no tally/stats.py: only
    the worktree's code makes the agent's tests pass."""
    fake_model(
        ScriptedModel(
            [
                Rule("## Task", [write("src/tally/stats.py", MEAN)], done="Added mean()."),
                Rule("write tests", [write("test/test_stats.py", MEAN_TESTS)], done="Tests."),
            ]
        )
    )
    task = wait_for(api, submit(api, checkout, "Add mean(values) in tally/stats.py"))

    assert task["status"] == "completed", task["summary"]
    assert task["workspace"]["kind"] == "worktree"
    generated = sorted(t["name"] for t in task["test_cases"] if t["type"] == "generated")
    assert generated == ["test/test_stats.py::test_mean", "test/test_stats.py::test_mean_one"]
    assert not (checkout / "src" / "tally" / "stats.py").exists()


def test_breaking_the_package_in_the_worktree_is_seen_and_told(
    api: TestClient, checkout: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    """(b) The agent makes the package raise on import. The checkout's code still imports
    fine, so tests that ran it would all pass: a false completion. They must fail."""
    broken = (
        "raise ImportError('broken by the change')\n"
        + (checkout / "src" / "tally" / "__init__.py").read_text()
    )
    fake = fake_model(
        ScriptedModel(
            [
                Rule(
                    "## Task",
                    [write("src/tally/__init__.py", broken), write("src/tally/stats.py", MEAN)],
                    done="Added mean().",
                ),
                Rule("write tests", [write("test/test_stats.py", MEAN_TESTS)], done="Tests."),
            ]
        )
    )
    task = wait_for(api, submit(api, checkout, "Add mean(values) in tally/stats.py"))

    assert task["status"] == "failed", task["summary"]
    assert task["test_summary"]["passed"] < task["test_summary"]["total"]
    told = [r.conversation_text for r in fake.agent_requests()]
    assert any("broken by the change" in text for text in told)


def test_a_generated_file_that_cannot_import_is_its_own_error(
    api: TestClient, checkout: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    """(d) A collection error in the agent's file: the agent sees that file's import error,
    the regression results stay intact, and once fixed the task completes."""
    bad_tests = "from tally.missing import mean\n\n" + MEAN_TESTS.split("\n\n", 1)[1]
    fake = fake_model(
        ScriptedModel(
            [
                Rule("## Task", [write("src/tally/stats.py", MEAN)], done="Added mean()."),
                Rule("write tests", [write("test/test_stats.py", bad_tests)], done="Tests."),
                Rule("Some tests failed", [write("test/test_stats.py", MEAN_TESTS)], done="Ok."),
            ]
        )
    )
    task = wait_for(api, submit(api, checkout, "Add mean(values) in tally/stats.py"))

    assert task["status"] == "completed", task["summary"]
    fix_request = next(
        r.conversation_text
        for r in fake.agent_requests()
        if "Some tests failed" in r.conversation_text
    )
    assert "test/test_stats.py" in fix_request and "tally.missing" in fix_request
    regression = {t["name"]: t["status"] for t in task["test_cases"] if t["type"] == "regression"}
    assert regression == {
        "test/test_tally.py::test_total": "passed",
        "test/test_tally.py::test_empty": "passed",
    }
