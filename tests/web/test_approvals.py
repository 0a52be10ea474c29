"""Approving from the dashboard: pending approvals stand out on the board and the task page,
arrive live, and are answered with Allow, Deny or Always allow."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from claudeserver.persistence.db import make_engine, make_sessionmaker
from claudeserver.settings import Settings
from tests.unit.test_approvals import held_call
from tests.web.conftest import screenshot

pytest.importorskip("playwright.sync_api", reason="the browser tests need the playwright package")
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_approve_and_deny_from_the_board_and_the_task_page(
    page: Page, dashboard: str, settings: Settings, project: Path
) -> None:
    db = make_sessionmaker(make_engine(settings.database_url))
    first = held_call(db, project)
    page.goto("/#/board")
    panel = page.get_by_role("region", name=re.compile("^Waiting for your approval"))
    expect(panel.get_by_role("heading")).to_have_text("Waiting for your approval (1)")
    # One more call is held while the board is open: it arrives live.
    second = held_call(db, project)
    expect(panel.get_by_role("heading")).to_have_text("Waiting for your approval (2)")
    card = panel.locator(f'[data-approval-id="{first}"]')
    expect(card).to_contain_text("make deploy")
    expect(card).to_contain_text("matches the ask rule `Bash(make deploy*)`")
    expect(card).to_contain_text("Unanswered, the simulated human allows it at")
    screenshot(page, "approvals-board", panel)

    card.get_by_role("button", name="Always allow").click()
    expect(page.locator("#notice")).to_have_text(
        "Allowed: make deploy (remembered for this session)."
    )
    expect(panel.get_by_role("heading")).to_have_text("Waiting for your approval (1)")
    with httpx.Client(base_url=dashboard) as http:
        answered = http.get(f"/api/v1/approvals/{first}").json()
        assert (answered["status"], answered["decided_by"], answered["remember"]) == (
            "allowed", "user", True,
        )  # fmt: skip
        policy = http.get(f"/api/v1/sessions/{answered['session_id']}").json()["policy"]
        assert policy["approved_rules"] == ["Bash(make deploy)"]

    panel.locator(f'[data-approval-id="{second}"]').get_by_role(
        "link", name="Open the task"
    ).click()
    expect(page).to_have_url(re.compile(r"#/tasks/"))
    expect(page.locator("#task-status")).to_have_text("paused")
    on_task = page.get_by_role("region", name=re.compile("^Waiting for your approval"))
    expect(on_task.get_by_role("heading")).to_have_text("Waiting for your approval (1)")
    expect(page.locator(".entry.kind-approval_request")).to_contain_text("WAITING FOR APPROVAL")
    screenshot(page, "approvals-task")
    on_task.get_by_role("textbox").fill("not on a Friday")
    on_task.get_by_role("button", name="Deny").click()
    expect(on_task).to_be_hidden()
    # The answer comes back through the task's event stream, in the timeline.
    answer = page.locator(".entry.kind-approval")
    expect(answer).to_contain_text("You: approval")
    expect(answer).to_contain_text("Denied by the user: not on a Friday")
    with httpx.Client(base_url=dashboard) as http:
        assert http.get(f"/api/v1/approvals/{second}").json()["status"] == "denied"
