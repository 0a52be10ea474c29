"""Continuing a finished task from its page with a follow-up request."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from tests.models import FIXED, adds_sub, calculator
from tests.web.conftest import screenshot
from tests.web.test_dashboard import AGENT_TIMEOUT, create_task

pytest.importorskip("playwright.sync_api", reason="the browser tests need the playwright package")
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.agent]

FakeModel = Callable[[Model], FakeAnthropic]

REQUEST = "Also add a sub(a, b) function that subtracts b from a."


def test_a_finished_task_continues_on_a_follow_up_from_its_page(
    page: Page, dashboard: str, project: Path, fake_model: FakeModel
) -> None:
    fake = fake_model(calculator(first=FIXED))
    task = create_task(dashboard, project, "Add an add(a, b) function")
    page.goto(f"/#/tasks/{task['id']}")
    status = page.locator("#task-status")
    expect(status).to_have_text("completed", timeout=AGENT_TIMEOUT)
    # A page reload would drop this marker: the second round must arrive live.
    page.evaluate("window.liveMarker = 1")

    request = page.locator("#message")  # labelled by what it is for at the time
    expect(request).to_have_accessible_name("Follow-up request")
    follow_up = page.get_by_role("button", name="Follow up")
    notice = page.locator("#notice")
    expect(follow_up).to_be_enabled()
    expect(page.locator("#message-hint")).to_contain_text("same workspace")

    # A blank request: the server refuses (422), the page says so, nothing restarts.
    request.fill("   ")
    follow_up.click()
    expect(notice).to_have_class(re.compile(r"\berror\b"))
    expect(notice).to_contain_text("content")
    expect(status).to_have_text("completed")
    expect(follow_up).to_be_enabled()

    fake.model = adds_sub()
    request.fill(REQUEST)
    follow_up.click()
    expect(notice).to_have_text("Follow-up queued.")
    expect(request).to_have_value("")
    expect(status).not_to_have_text("completed")  # pending or running again
    expect(request).to_have_accessible_name("Message to the agent")  # a task at work again
    entry = page.locator(".entry.kind-follow_up")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("follow-up")
    expect(entry).to_contain_text(REQUEST)

    expect(status).to_have_text("completed", timeout=AGENT_TIMEOUT)
    assert page.evaluate("window.liveMarker") == 1
    # The new round's entries come after the request in the timeline.
    expect(page.locator(".entry.kind-follow_up ~ .entry.kind-tool_use").first).to_contain_text(
        "Write"
    )
    tests = page.locator("#tests")
    expect(tests.locator("tr", has_text="test_difference")).to_contain_text("generated")
    expect(tests.locator("tr", has_text="test_small")).to_contain_text("regression")
    expect(page.locator("#task-stats")).to_contain_text(re.compile(r"Attempt\s*2"))
    expect(follow_up).to_be_enabled()  # and it may go on
    screenshot(page, "task-follow-up")

    with httpx.Client(base_url=dashboard) as http:
        detail = http.get(f"/api/v1/tasks/{task['id']}").json()
    assert detail["status"] == "completed" and detail["attempt"] == 2
    followed = [r for r in fake.agent_requests() if REQUEST in r.conversation_text]
    assert followed, "the model never saw the follow-up"
    # The same conversation: the first round's prompt is still in it.
    assert followed[-1].conversation_text.count("## Task") >= 2
