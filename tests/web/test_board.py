"""The board: every task in a column per status, following the global event stream."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from tests.models import FIXED, calculator, stalling
from tests.web.conftest import screenshot
from tests.web.test_dashboard import AGENT_TIMEOUT, create_task

pytest.importorskip("playwright.sync_api", reason="the browser tests need the playwright package")
from playwright.sync_api import Locator, Page, Route, expect

pytestmark = [pytest.mark.browser, pytest.mark.agent]

FakeModel = Callable[[Model], FakeAnthropic]


def column(page: Page, title: str) -> Locator:
    return page.get_by_role("region", name=re.compile(rf"^{title}\b"))


def wait_for_status(url: str, task_id: str, status: str) -> None:
    deadline = time.monotonic() + AGENT_TIMEOUT / 1000
    with httpx.Client(base_url=url) as http:
        while True:
            found = http.get(f"/api/v1/tasks/{task_id}/status").json()["status"]
            if found == status:
                return
            assert time.monotonic() < deadline, f"still {found}, not {status}"
            time.sleep(0.2)


def test_a_completed_task_is_in_its_column_with_its_tests(
    page: Page, dashboard: str, project: Path, fake_model: FakeModel
) -> None:
    fake_model(calculator(first=FIXED))
    task = create_task(dashboard, project, "Add an add(a, b) function")
    wait_for_status(dashboard, task["id"], "completed")

    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Board").click()
    expect(page).to_have_url(re.compile(r"#/board$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Board")
    headings = page.get_by_role("heading", level=2)
    expect(headings).to_have_text(
        [re.compile(rf"^{name}") for name in
         ["Pending", "Running", "Testing", "Completed", "Failed", "Cancelled"]]
    )  # fmt: skip

    completed = column(page, "Completed")
    expect(completed.get_by_role("heading")).to_have_text(re.compile(r"Completed\s*1 task$"))
    card = completed.get_by_role("listitem")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("4 tests: 4 passed, 0 failed")
    expect(card.locator(".project")).to_have_text(project.name)
    expect(card.locator(".project")).to_have_attribute("title", str(project))
    expect(card.locator(".cost")).to_have_text(re.compile(r"^\$\d+\.\d{4}$"))
    expect(card.locator(".cost")).not_to_have_text("$0.0000")
    expect(card.locator(".progress")).to_be_hidden()
    for name in ["Pending", "Running", "Testing", "Failed", "Cancelled"]:
        expect(column(page, name).get_by_role("listitem")).to_have_count(0)
    expect(page.locator("#board-note")).to_have_text("1 task.")
    screenshot(page, "board")
    # All six columns fit a laptop's screen, and nothing makes the page scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1100
    assert page.evaluate("document.querySelector('.board').scrollWidth") <= page.evaluate(
        "document.querySelector('.board').clientWidth"
    )

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the columns stack
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    assert not wide, f"wider than the phone's screen: {wide}"
    screenshot(page, "board-narrow")

    card.get_by_role("link", name="Add an add(a, b) function").click()
    expect(page).to_have_url(re.compile(rf"#/tasks/{task['id']}$"))
    expect(page.locator("#task-status")).to_have_text("completed")


def test_a_task_created_elsewhere_appears_and_moves_live(
    page: Page, dashboard: str, project: Path, fake_model: FakeModel
) -> None:
    fake_model(stalling(seconds=60))
    page.goto("/#/board")
    expect(page.locator("#board-note")).to_have_text("0 tasks.")
    # A page reload would drop this marker: everything below must arrive live.
    page.evaluate("window.liveMarker = 1")

    task = create_task(dashboard, project, "Think for a long time")
    running = column(page, "Running").get_by_role("listitem")
    expect(running.filter(has_text="Think for a long time")).to_have_count(1, timeout=AGENT_TIMEOUT)
    expect(running.locator(".badge")).to_have_text("running")
    expect(column(page, "Running").get_by_role("heading")).to_contain_text("1")

    with httpx.Client(base_url=dashboard) as http:
        assert http.post(f"/api/v1/tasks/{task['id']}/cancel").json()["status"] == "cancelled"
    cancelled = column(page, "Cancelled").get_by_role("listitem")
    expect(cancelled.filter(has_text="Think for a long time")).to_have_count(1)
    expect(cancelled.locator(".badge")).to_have_text("cancelled")
    expect(column(page, "Running").get_by_role("listitem")).to_have_count(0)
    expect(column(page, "Running").get_by_role("heading")).to_have_text(
        re.compile(r"Running\s*0 tasks$")
    )
    assert page.evaluate("window.liveMarker") == 1
    screenshot(page, "board-live")


def test_leaving_the_board_closes_its_event_stream(page: Page) -> None:
    page.add_init_script(
        """
        window.openStreams = 0;
        const Original = window.EventSource;
        window.EventSource = class extends Original {
          constructor(...args) { super(...args); window.openStreams += 1; }
          close() { if (this.readyState !== 2) window.openStreams -= 1; super.close(); }
        };
        """
    )
    page.goto("/#/board")
    page.wait_for_function("() => window.openStreams === 1")  # a function: the CSP forbids eval
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sessions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sessions")
    page.wait_for_function("() => window.openStreams === 0")


def test_the_board_says_when_it_shows_only_the_newest_tasks(page: Page) -> None:
    def more(route: Route) -> None:
        answer = route.fetch()
        route.fulfill(response=answer, json={**answer.json(), "next_cursor": "older"})

    page.route(re.compile(r"/api/v1/tasks\?limit=200$"), more)
    page.goto("/#/board")
    expect(page.locator("#board-note")).to_have_text(re.compile(r"^Showing the newest 200 tasks"))
