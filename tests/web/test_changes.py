"""The task page's Changes, Merge and Review on a git repository (worktree isolation)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from tests.models import BUGGY, FIXED, TESTS, calculator, reviewed
from tests.reviewing import git
from tests.web.conftest import screenshot
from tests.web.test_dashboard import AGENT_TIMEOUT

pytest.importorskip("playwright.sync_api", reason="the browser tests need the playwright package")
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.agent]

MINUS = "\u2212"  # the dashboard counts removed lines with a typographic minus
FINDINGS = [
    {"severity": "warning", "file": "mathutil.py", "line": 2, "comment": "Strings work too."},
    {"severity": "info", "comment": "<b>Nice</b> and small."},
]


@pytest.fixture
def repo(project: Path) -> Path:
    """The project as a git repository whose one commit has a buggy add() to fix."""
    (project / "mathutil.py").write_text(BUGGY)
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "initial")
    return project


def counts(page: Page, path: str) -> list[str]:
    """The added and removed counts in the Changes table's row for `path`."""
    row = page.locator("#changes-files tbody tr").filter(
        has=page.get_by_role("cell", name=path, exact=True)
    )
    return row.locator(".num").all_inner_texts()


def test_a_reviewed_worktree_task_shows_its_changes_and_merges(
    page: Page, repo: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    fake_model(reviewed(calculator(first=FIXED), json.dumps(FINDINGS)))
    page.goto("/")
    page.get_by_label("Project directory").fill(str(repo))
    page.get_by_text("Options").click()
    page.get_by_label("Review each change").check()
    page.get_by_role("button", name="Create session").click()
    expect(page.locator("#session-info")).to_have_text(
        "Each task on its own branch from main · changes are reviewed"
    )
    page.get_by_label("What should the agent do?").fill("Fix add(a, b)")
    page.get_by_role("button", name="Submit task").click()
    expect(page).to_have_url(re.compile(r"#/tasks/"))

    expect(page.locator("#task-status")).to_have_text("completed", timeout=AGENT_TIMEOUT)
    stats = page.locator("#task-stats")
    expect(stats).to_contain_text(re.compile(r"Branch\s*claudeserver/[0-9a-f]{8}"))
    expect(stats).to_contain_text(re.compile(r"Base branch\s*main"))
    expect(stats).to_contain_text(re.compile(r"Worker\s*\S+:\d+"))

    expect(page.locator("#changes-files tbody tr")).to_have_count(3)
    assert counts(page, "mathutil.py") == ["+1", f"{MINUS}1"]
    assert counts(page, "tests/test_mathutil.py") == [f"+{TESTS.count(chr(10))}", f"{MINUS}0"]
    diff = page.locator("#changes-diff pre.diff")
    expect(diff.locator(".add", has_text="+    return a + b")).to_have_count(1)
    expect(diff.locator(".del", has_text="-    return a - b")).to_have_count(1)
    expect(diff.locator(".meta", has_text="--- a/mathutil.py")).to_have_count(1)
    # Green and red. Waited for, because a live event may re-render the diff meanwhile.
    page.wait_for_function(
        """() => {
            const d = document.querySelector('#changes-diff pre.diff');
            const colour = (c) => d && d.querySelector(c)
                && getComputedStyle(d.querySelector(c)).backgroundColor;
            return colour('.add') === 'rgb(230, 244, 234)'
                && colour('.del') === 'rgb(253, 232, 232)';
        }""",
        timeout=5000,
    )

    findings = page.locator("#findings li")
    expect(findings).to_have_count(2)
    expect(findings.first.locator(".badge")).to_have_text("warning")
    expect(findings.first).to_contain_text("mathutil.py:2")
    expect(findings.nth(1)).to_contain_text("<b>Nice</b> and small.")  # text, not markup
    assert page.locator("#findings b").count() == 0

    # Someone changed the same line on main meanwhile: the merge refuses and says where.
    (repo / "mathutil.py").write_text("def add(a, b):\n    return b + a\n")
    git(repo, "commit", "-qam", "theirs")
    merge = page.get_by_role("button", name="Merge into main")
    merge.click()
    conflict = page.locator("#merge-outcome .conflict")
    expect(conflict).to_contain_text("conflict")
    expect(conflict.locator("li")).to_have_text(["mathutil.py"])
    screenshot(page, "task-merge-conflict", page.locator("#changes"))

    git(repo, "reset", "-q", "--hard", "HEAD~1")
    merge.click()
    expect(page.locator("#merge-outcome")).to_contain_text("Merged into main (fast-forward")
    assert git(repo, "show", "main:mathutil.py") == FIXED
    screenshot(page, "task-changes-merged")
    screenshot(page, "task-changes", page.locator("#changes"))

    page.get_by_role("button", name="Remove workspace").click()
    expect(page.locator("#changes-note")).to_have_text(
        "The workspace was removed, so its changes can no longer be shown."
    )
    expect(page.locator("#changes-diff")).to_be_empty()
    expect(page.get_by_role("button", name="Merge into main")).to_be_hidden()
