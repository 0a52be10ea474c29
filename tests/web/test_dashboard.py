"""The dashboard in headless Chromium against a live server and the real agent CLI."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from claudeserver.testing.script import bash
from tests.models import BUGGY, FIXED, calculator, stalling
from tests.web.conftest import screenshot

pytest.importorskip("playwright.sync_api", reason="the browser tests need the playwright package")
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.agent]

FakeModel = Callable[[Model], FakeAnthropic]
AGENT_TIMEOUT = 60_000  # ms: a whole task with the real CLI


def create_task(
    url: str, project: Path, description: str, *, token: str | None = None, **options: Any
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=url, headers=headers) as http:
        session = http.post("/api/v1/sessions", json={"project_path": str(project)}).json()
        body = {"session_id": session["id"], "description": description, **options}
        task = http.post("/api/v1/tasks", json=body)
        assert task.status_code == 201, task.text
        result: dict[str, Any] = task.json()
        return result


def open_running_task(
    page: Page, dashboard: str, project: Path, fake_model: FakeModel
) -> dict[str, Any]:
    """A task whose agent thinks for a minute, open in the dashboard once it runs."""
    fake_model(stalling(seconds=60))
    task = create_task(dashboard, project, "Think for a long time")
    page.goto(f"/#/tasks/{task['id']}")
    expect(page.locator("#task-status")).to_have_text("running", timeout=AGENT_TIMEOUT)
    return task


def test_create_a_session_and_task_and_watch_it_complete_live(
    page: Page, project: Path, fake_model: FakeModel
) -> None:
    fake_model(calculator(first=FIXED))
    page.goto("/")
    page.get_by_label("Project directory").fill(str(project))
    page.get_by_role("button", name="Create session").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(str(project))

    page.get_by_label("What should the agent do?").fill("Add an add(a, b) function")
    page.get_by_text("Options").click()
    page.get_by_label("Max iterations").fill("6")
    page.get_by_role("button", name="Submit task").click()
    expect(page).to_have_url(re.compile(r"#/tasks/"))
    # A page reload would drop this marker: everything below must arrive live.
    page.evaluate("window.liveMarker = 1")

    expect(page.locator("#task-status")).to_have_text("completed", timeout=AGENT_TIMEOUT)
    assert page.evaluate("window.liveMarker") == 1
    expect(page.locator(".entry.kind-tool_use").first).to_contain_text("Write")
    expect(page.locator(".entry.role-human").first).to_be_visible()
    rows = page.locator("#tests tbody tr")
    expect(rows).to_have_count(4)
    expect(page.locator("#tests")).to_contain_text("regression")
    expect(page.locator("#tests")).to_contain_text("generated")
    expect(page.locator("#task-stats")).to_contain_text("of 6")
    expect(page.locator("#task-stats")).not_to_contain_text("$0.0000")
    expect(page.get_by_role("button", name="Cancel")).to_be_disabled()
    screenshot(page, "task-completed")

    page.get_by_role("link", name="← Session").click()
    expect(page.locator("tbody .badge")).to_have_text(["completed"])
    screenshot(page, "session-tasks")


def test_a_denied_permission_stands_out_and_agent_text_stays_text(
    page: Page, dashboard: str, project: Path, fake_model: FakeModel
) -> None:
    hostile = '<img src=x onerror="window.pwned=1">I added add.'
    fake_model(calculator(first=FIXED, task_steps=(bash("sudo rm -rf /"),), done=hostile))
    task = create_task(dashboard, project, "Add an add(a, b) function")
    page.goto(f"/#/tasks/{task['id']}")

    expect(page.locator("#task-status")).to_have_text("completed", timeout=AGENT_TIMEOUT)
    denial = page.locator(".entry.deny")
    expect(denial).to_have_count(1)
    expect(denial).to_contain_text("PERMISSION DENIED")
    expect(denial).to_contain_text("sudo rm -rf /")
    expect(page.locator("#denials")).to_have_text(re.compile("1 permission request was denied"))
    expect(page.locator(".entry.role-assistant", has_text=hostile).first).to_be_visible()
    assert page.locator("#timeline img").count() == 0
    assert page.evaluate("window.pwned") is None
    screenshot(page, "permission-denied")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    screenshot(page, "permission-denied-narrow")
    # Tables may scroll sideways inside their own box; nothing else may overflow.
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')]"
        ".filter(e => !e.closest('.table-wrap table') && e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert not wide, f"wider than the phone's screen: {wide}"


def test_a_failing_tests_output_expands(
    page: Page, dashboard: str, project: Path, fake_model: FakeModel
) -> None:
    fake_model(calculator(fix=BUGGY))
    task = create_task(dashboard, project, "Add an add(a, b) function", max_iterations=2)
    page.goto(f"/#/tasks/{task['id']}")

    expect(page.locator("#task-status")).to_have_text("failed", timeout=AGENT_TIMEOUT)
    row = page.locator("#tests tr", has_text="test_small")
    expect(row).to_contain_text("generated")
    expect(row.locator(".badge")).to_have_text("failed")
    output = row.locator("details pre")
    expect(output).to_be_hidden()
    row.locator("summary").focus()
    page.keyboard.press("Enter")  # expandable from the keyboard too
    expect(output).to_be_visible()
    expect(output).to_contain_text("assert")
    expect(page.get_by_role("button", name="Retry")).to_be_enabled()
    screenshot(page, "failing-test-output")


def test_the_tests_table_shows_how_each_test_compares_with_before_the_task(
    page: Page, dashboard: str, project: Path, fake_model: FakeModel
) -> None:
    (project / "tests" / "test_legacy.py").write_text(
        "def test_legacy():\n    assert False, 'broken before the task'\n"
    )
    fake_model(calculator(first=FIXED))
    task = create_task(dashboard, project, "Add an add(a, b) function")
    page.goto(f"/#/tasks/{task['id']}")

    expect(page.locator("#task-status")).to_have_text("completed", timeout=AGENT_TIMEOUT)
    expect(page.locator("#task-summary")).to_contain_text("already failing before the task")
    legacy = page.locator("#tests tbody tr", has_text="test_legacy")
    expect(legacy.locator(".verdict")).to_have_text("pre-existing")
    expect(legacy).to_have_class(re.compile("judged-pre_existing"))
    expect(legacy.locator("details pre")).to_contain_text(
        "broken before the task", use_inner_text=False
    )
    # The agent's failures would come first; here the old failure heads the table.
    expect(page.locator("#tests tbody tr").first).to_contain_text("test_legacy")
    expect(page.locator("#tests .verdict", has_text="new")).to_have_count(3)
    expect(page.locator("#task-stats")).to_contain_text("1 already failing before the task")
    expect(page.locator("#task-stats")).to_contain_text(re.compile(r"Baseline run\s*\d+\.\d\d s"))
    screenshot(page, "tests-judged", page.locator("#tests"))


def test_a_session_can_require_tests_failing_before_a_task_to_pass(
    page: Page, dashboard: str, project: Path
) -> None:
    page.goto("/")
    page.get_by_label("Project directory").fill(str(project))
    page.get_by_text("Options").click()
    page.get_by_label("Tests failing before a task must pass too").check()
    page.get_by_role("button", name="Create session").click()
    expect(page.locator("#session-info")).to_contain_text("tests failing before a task must pass")
    with httpx.Client(base_url=dashboard) as http:
        (session,) = http.get("/api/v1/sessions").json()
    assert session["baseline_failures"] == "block"


def test_a_session_can_set_its_tasks_budget(page: Page, dashboard: str, project: Path) -> None:
    page.goto("/")
    page.get_by_label("Project directory").fill(str(project))
    page.get_by_text("Options").click()
    page.get_by_label("Budget per task (USD)").fill("2.5")
    page.get_by_role("button", name="Create session").click()
    expect(page.locator("#session-info")).to_contain_text("budget $2.5 per task")
    with httpx.Client(base_url=dashboard) as http:
        (session,) = http.get("/api/v1/sessions").json()
    assert session["max_budget_usd"] == 2.5


def test_a_slow_task_takes_a_message_and_can_be_cancelled(
    page: Page, dashboard: str, project: Path, fake_model: FakeModel
) -> None:
    open_running_task(page, dashboard, project, fake_model)
    # Follow-ups are for finished tasks: a running one only takes messages.
    expect(page.get_by_role("button", name="Follow up")).to_have_count(0)
    expect(page.get_by_label("Follow-up request")).to_have_count(0)

    page.get_by_label("Message to the agent").fill("Please hurry up")
    page.get_by_role("button", name="Send message").click()
    expect(page.locator(".entry.role-user")).to_contain_text("Please hurry up")

    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#task-status")).to_have_text("cancelled")
    expect(page.get_by_role("button", name="Retry")).to_be_enabled()
    # Finished, the text box asks for a follow-up instead of a message.
    expect(page.get_by_role("button", name="Send message")).to_have_count(0)
    expect(page.get_by_role("button", name="Follow up")).to_be_enabled()
    expect(page.get_by_label("Follow-up request")).to_be_empty()
    screenshot(page, "task-cancelled")


def test_session_badges_follow_the_tasks_live(
    page: Page, dashboard: str, project: Path, fake_model: FakeModel
) -> None:
    fake_model(stalling(seconds=60))
    task = create_task(dashboard, project, "Think for a long time")
    streams: list[str] = []
    page.on("request", lambda r: streams.append(r.url) if "/api/v1/events" in r.url else None)
    # The page opens its stream after rendering the list, which may already show "running".
    with page.expect_request(lambda r: "/api/v1/events" in r.url):
        page.goto(f"/#/sessions/{task['session_id']}")
    page.evaluate("window.liveMarker = 1")
    badge = page.locator("tbody .badge")
    expect(badge).to_have_text("running", timeout=AGENT_TIMEOUT)
    # The stream starts at the list's snapshot instead of replaying every event.
    assert streams and all("after=" in url for url in streams), streams

    with httpx.Client(base_url=dashboard) as http:
        assert http.post(f"/api/v1/tasks/{task['id']}/cancel").json()["status"] == "cancelled"
        expect(badge).to_have_text("cancelled")
        # A task created elsewhere shows up too.
        body = {"session_id": task["session_id"], "description": "Another one"}
        other = http.post("/api/v1/tasks", json=body).json()
        expect(page.locator("tbody tr")).to_have_count(2)
        expect(page.locator("tbody tr").first).to_contain_text("Another one")
        http.post(f"/api/v1/tasks/{other['id']}/cancel")
        expect(page.locator("tbody .badge").first).to_have_text("cancelled")
    assert page.evaluate("window.liveMarker") == 1
