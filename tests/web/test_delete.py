"""Deleting a finished task from its page and a whole session from its page."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from tests.models import FIXED, calculator, stalling
from tests.web.conftest import screenshot
from tests.web.test_dashboard import AGENT_TIMEOUT, create_task, open_running_task

pytest.importorskip("playwright.sync_api", reason="the browser tests need the playwright package")
from playwright.sync_api import Dialog, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.agent]

FakeModel = Callable[[Model], FakeAnthropic]


def answer(page: Page, accept: bool) -> list[str]:
    """Answers the next confirmation; the list gets its message."""
    messages: list[str] = []

    def handle(dialog: Dialog) -> None:
        messages.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", handle)
    return messages


def test_a_finished_task_is_deleted_from_its_page(
    page: Page, dashboard: str, project: Path, fake_model: FakeModel
) -> None:
    fake_model(calculator(first=FIXED))
    task = create_task(dashboard, project, "Add an add(a, b) function")
    page.goto(f"/#/tasks/{task['id']}")
    expect(page.locator("#task-status")).to_have_text("completed", timeout=AGENT_TIMEOUT)
    with httpx.Client(base_url=dashboard) as http:
        snapshot = Path(http.get(f"/api/v1/tasks/{task['id']}").json()["workspace"]["snapshot"])
    assert snapshot.is_dir()
    delete = page.get_by_role("button", name="Delete task")
    expect(delete).to_be_enabled()
    screenshot(page, "task-delete-button", page.locator(".actions").first)

    # Changing one's mind keeps everything.
    asked = answer(page, accept=False)
    delete.click()
    expect(delete).to_be_enabled()
    assert asked and all(
        word in asked[0] for word in ("record", "timeline", "tests", "workspace")
    ), asked
    expect(page).to_have_url(re.compile(rf"#/tasks/{task['id']}$"))

    answer(page, accept=True)
    delete.click()
    expect(page).to_have_url(re.compile(rf"#/sessions/{task['session_id']}$"))
    expect(page.locator("#notice")).to_have_text("Task deleted.")
    expect(page.get_by_text("No tasks yet.")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(0)
    with httpx.Client(base_url=dashboard) as http:
        assert http.get(f"/api/v1/tasks/{task['id']}").status_code == 404
        assert http.get(f"/api/v1/sessions/{task['session_id']}/tasks").json() == []
    assert not snapshot.exists()
    assert (project / "mathutil.py").read_text() == FIXED  # the changes in place stay


def test_an_unfinished_task_has_no_delete_button_until_it_ends(
    page: Page, dashboard: str, project: Path, fake_model: FakeModel
) -> None:
    open_running_task(page, dashboard, project, fake_model)
    delete = page.get_by_role("button", name="Delete task")
    expect(delete).to_have_count(0)  # hidden, so not in the accessibility tree

    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#task-status")).to_have_text("cancelled")
    expect(delete).to_be_visible()


def test_a_session_is_deleted_once_its_tasks_have_finished(
    page: Page, dashboard: str, project: Path, fake_model: FakeModel
) -> None:
    fake_model(stalling(seconds=60))
    task = create_task(dashboard, project, "Think for a long time")
    with httpx.Client(base_url=dashboard) as http:
        other = http.post("/api/v1/sessions", json={"project_path": str(project)}).json()
    page.goto(f"/#/sessions/{task['session_id']}")
    expect(page.locator("tbody .badge")).to_have_text("running", timeout=AGENT_TIMEOUT)
    delete = page.get_by_role("button", name="Delete session")

    # A running task: the server refuses, and the page says why.
    asked = answer(page, accept=True)
    delete.click()
    notice = page.locator("#notice")
    expect(notice).to_contain_text("unfinished")
    expect(notice).to_contain_text(task["id"])
    expect(notice).to_have_class(re.compile(r"\berror\b"))
    assert asked and "its task" in asked[0] and "workspaces" in asked[0], asked
    expect(page).to_have_url(re.compile(rf"#/sessions/{task['session_id']}$"))
    expect(delete).to_be_enabled()
    screenshot(page, "session-delete-refused")

    with httpx.Client(base_url=dashboard) as http:
        assert http.post(f"/api/v1/tasks/{task['id']}/cancel").json()["status"] == "cancelled"
    expect(page.locator("tbody .badge")).to_have_text("cancelled")
    answer(page, accept=True)
    delete.click()
    expect(page).to_have_url(re.compile(r"#/$"))
    expect(notice).to_have_text("Session deleted.")
    sessions = page.locator("table")
    expect(sessions).to_contain_text(other["id"])
    expect(sessions).not_to_contain_text(task["session_id"])
    with httpx.Client(base_url=dashboard) as http:
        assert http.get(f"/api/v1/sessions/{task['session_id']}").status_code == 404
        assert http.get(f"/api/v1/tasks/{task['id']}").status_code == 404
