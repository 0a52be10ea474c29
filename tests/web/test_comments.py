"""Review comments on the task page's diff, and browser notifications, without an agent:
the tasks' states are written by the test (no worker runs them)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from claudeserver.domain import comments
from claudeserver.persistence import tasks
from claudeserver.settings import Settings
from claudeserver.vocabulary import TaskStatus
from tests.reviewing import BASE, finished_task, make_repo
from tests.web.conftest import screenshot

pytest.importorskip("playwright.sync_api", reason="the browser tests need the playwright package")
from playwright.sync_api import Browser, Page, expect

pytestmark = pytest.mark.browser

# The page is taken for hidden (window.hidden = false shows it), and every notification
# it makes is recorded.
HIDDEN_AND_RECORDED = """
window.hidden = true;
Object.defineProperty(document, "visibilityState",
  { get: () => (window.hidden ? "hidden" : "visible") });
Object.defineProperty(document, "hidden", { get: () => window.hidden });
window.notices = [];
const Real = window.Notification;
window.Notification = class extends Real {
  constructor(title, options) {
    super(title, options);
    window.notices.push({ title, body: (options || {}).body || "" });
  }
};
"""


@pytest.fixture
def dashboard(idle_server: str) -> str:
    return idle_server  # the one the page opens


def test_comment_on_diff_lines_and_send_them_to_the_agent(
    page: Page, dashboard: str, idle_app: FastAPI, project: Path, settings: Settings
) -> None:
    factory = idle_app.state.sessionmaker
    with httpx.Client(base_url=dashboard) as http:
        task_id, ws = finished_task(http, factory, make_repo(project), settings.workspaces_dir)
    page.goto(f"/#/tasks/{task_id}")
    diff = page.locator("#changes-diff pre.diff")
    send = page.locator("#send-comments")

    # A comment made elsewhere (the command line, another tab) shows up on the finished
    # task's page, and so does its resolution.
    with httpx.Client(base_url=dashboard) as http:
        where = {"file": "mathutil.py", "line": 5, "side": "new"}
        made = http.post(f"/api/v1/tasks/{task_id}/comments", json={**where, "body": "Elsewhere."})
        elsewhere = diff.locator(".thread").filter(has_text="Elsewhere.")
        expect(elsewhere.locator(".comment-state")).to_have_text("open")
        comment = f"/api/v1/tasks/{task_id}/comments/{made.json()['id']}"
        http.patch(comment, json={"resolved": True}).raise_for_status()
        expect(elsewhere.locator(".comment-state")).to_have_text("resolved")

    diff.locator("span.line.add", has_text="return a + b").click()
    box = page.get_by_label("Comment on mathutil.py:2", exact=True)
    box.fill("Use sum() here.")
    page.get_by_role("button", name="Comment", exact=True).click()
    expect(page.locator("#notice")).to_have_text("Comment added on mathutil.py:2.")
    thread = diff.locator(".thread").filter(has_text="Use sum() here.")
    expect(thread.locator(".comment-state")).to_have_text("open")
    # It sits right under its line.
    expect(diff.locator("span.line.add:has-text('return a + b') + .thread")).to_contain_text(
        "Use sum() here."
    )

    # From the keyboard: the diff is a tab stop, arrows move between lines, Enter comments,
    # Escape closes the box, Ctrl+Enter saves.
    lines = diff.locator("span.line")
    target = lines.filter(has_text="# twice")
    diff.focus()
    for _ in range(lines.all_inner_texts().index(target.inner_text()) + 1):
        page.keyboard.press("ArrowDown")
    expect(target).to_be_focused()
    page.keyboard.press("Enter")
    box = page.get_by_label("Comment on mathutil.py:6 (before the task)")
    expect(box).to_be_focused()
    page.keyboard.press("Escape")
    expect(box).to_have_count(0)
    expect(target).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.type("Keep this comment.")
    page.keyboard.press("Control+Enter")
    expect(send).to_have_text("Send 2 comments to the agent")
    removed = diff.locator(".thread").filter(has_text="Keep this comment.")
    removed.get_by_role("button", name="Resolve").click()
    expect(removed.locator(".comment-state")).to_have_text("resolved")
    expect(send).to_have_text("Send 1 comment to the agent")
    entries = page.locator(".entry.kind-comment")
    expect(entries).to_have_count(5)  # each addition and resolution is in the timeline
    screenshot(page, "task-comments", page.locator("#changes"))

    send.click()
    expect(page.locator("#notice")).to_contain_text("Comments sent")
    expect(page.locator("#task-status")).to_have_text("pending")
    request = page.locator(".entry.kind-follow_up")
    expect(request).to_contain_text("### Comment 1: mathutil.py, line 2")
    expect(request).to_contain_text("> Use sum() here.")
    expect(request).not_to_contain_text("Keep this comment.")
    expect(thread.locator(".comment-state")).to_have_text("sent")
    expect(send).to_be_disabled()  # the task is at work again
    expect(page.locator("#comments-hint")).to_have_text(
        "Comments can be sent once the task has finished."
    )

    # The round ends having changed that line: the page shows it addressed, live.
    (ws.path / "mathutil.py").write_text(BASE.replace("a - b", "sum((a, b))"))
    comments.settle(factory, task_id=task_id, workspace=ws)
    expect(thread.locator(".comment-state")).to_have_text("addressed")
    expect(send).to_be_hidden()  # addressed is resolved: nothing left to send
    expect(page.locator(".entry.kind-comment").last).to_contain_text(
        "The agent changed the lines of 1 of 1 comment"
    )


def test_a_finished_tasks_page_in_the_background_lets_go_of_its_stream(
    page: Page, dashboard: str, idle_app: FastAPI, project: Path, settings: Settings
) -> None:
    """A browser holds only a few connections per server: a background tab of a finished
    task closes its stream, and catches up when shown again."""
    page.add_init_script(HIDDEN_AND_RECORDED + "window.hidden = false;")
    with httpx.Client(base_url=dashboard) as http:
        task_id, _ = finished_task(
            http, idle_app.state.sessionmaker, make_repo(project), settings.workspaces_dir
        )
        with page.expect_request(lambda r: "/events" in r.url):
            page.goto(f"/#/tasks/{task_id}")
        expect(page.locator("#changes-diff pre.diff")).to_be_visible()

        hide = "window.hidden = %s; document.dispatchEvent(new Event('visibilitychange'))"
        with page.expect_event("requestfailed", lambda r: "/events" in r.url):
            page.evaluate(hide % "true")
        where = {"file": "mathutil.py", "line": 5, "side": "new"}
        http.post(f"/api/v1/tasks/{task_id}/comments", json={**where, "body": "While away."})
        with page.expect_request(lambda r: "/events" in r.url and "after=" in r.url):
            page.evaluate(hide % "false")
    expect(page.locator(".thread").filter(has_text="While away.")).to_be_visible()
    expect(page.locator(".entry.kind-comment")).to_have_count(1)


def test_notifications_for_the_open_sessions_tasks_while_the_tab_is_hidden(
    browser: Browser, dashboard: str, idle_app: FastAPI, project: Path
) -> None:
    context = browser.new_context(base_url=dashboard)
    try:
        context.grant_permissions(["notifications"], origin=dashboard)
        context.add_init_script(HIDDEN_AND_RECORDED)
        page = context.new_page()
        page.set_default_timeout(15_000)
        with httpx.Client(base_url=dashboard) as http:
            session = http.post("/api/v1/sessions", json={"project_path": str(project)}).json()
            ids = [
                http.post(
                    "/api/v1/tasks", json={"session_id": session["id"], "description": text}
                ).json()["id"]
                for text in ("Fix add", "Push the branch", "Something else")
            ]
        page.goto(f"/#/sessions/{session['id']}")
        expect(page.locator("tbody tr")).to_have_count(3)
        expect(page.locator("#notify-permission")).to_be_hidden()  # already allowed

        move(idle_app, ids[0], TaskStatus.RUNNING, TaskStatus.TESTING, TaskStatus.COMPLETED)
        page.wait_for_function("() => window.notices.length === 1")
        move(idle_app, ids[1], TaskStatus.RUNNING)
        move(idle_app, ids[1], TaskStatus.PAUSED, progress="Waiting for approval: Bash(git push)")
        page.wait_for_function("() => window.notices.length === 2")
        notices: list[dict[str, Any]] = page.evaluate("window.notices")
        assert notices[0]["title"] == "Task completed"
        assert notices[0]["body"].startswith("Fix add")
        assert notices[1] == {
            "title": "Approval waiting",
            "body": "Push the branch\nWaiting for approval: Bash(git push)",
        }

        # A visible page says it itself: no notification.
        page.evaluate("window.hidden = false")
        move(idle_app, ids[2], TaskStatus.RUNNING, TaskStatus.FAILED)
        expect(page.locator("tbody tr", has_text="Something else")).to_contain_text("failed")
        assert page.evaluate("window.notices.length") == 2
    finally:
        context.close()


def test_the_dashboard_offers_to_turn_notifications_on(page: Page) -> None:
    page.goto("/")
    button = page.get_by_role("button", name="Notify me")
    permission = page.evaluate("Notification.permission")
    if permission != "default":
        pytest.skip(f"this browser answers notification requests itself ({permission})")
    expect(button).to_be_visible()


def move(app: FastAPI, task_id: str, *statuses: TaskStatus, progress: str | None = None) -> None:
    """Move a task through `statuses` as a run would (each move an event)."""
    with app.state.sessionmaker() as db:
        for status in statuses:
            fields = {"progress": progress} if progress else {}
            assert tasks.transition(db, task_id=task_id, to=status, **fields), status


def test_the_webhook_format_is_chosen_in_the_session_and_task_forms(
    page: Page, dashboard: str, project: Path
) -> None:
    page.goto("/")
    page.get_by_label("Project directory").fill(str(project))
    page.get_by_text("Options").click()
    page.get_by_label("Webhook URL").fill("https://hooks.slack.com/services/T/B/X")
    page.get_by_label("Webhook format").select_option("slack")
    page.get_by_role("button", name="Create session").click()
    expect(page).to_have_url(re.compile(r"#/sessions/"))
    page.get_by_label("What should the agent do?").fill("Fix add")
    page.get_by_text("Options").click()
    page.get_by_label("Webhook format").select_option("json")
    page.get_by_role("button", name="Submit task").click()
    expect(page).to_have_url(re.compile(r"#/tasks/"))

    task_id = page.url.rsplit("/", 1)[-1]
    with httpx.Client(base_url=dashboard) as http:
        task = http.get(f"/api/v1/tasks/{task_id}").json()
        session = http.get(f"/api/v1/sessions/{task['session_id']}").json()
    assert (session["webhook_url"], session["webhook_format"]) == (
        "https://hooks.slack.com/services/T/B/X", "slack",
    )  # fmt: skip
    assert (task["webhook_url"], task["webhook_format"]) == (None, "json")
