"""The dashboard against a server that requires an API token."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from claudeserver.settings import Settings
from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from tests.models import stalling
from tests.web.conftest import screenshot
from tests.web.test_dashboard import AGENT_TIMEOUT, create_task

pytest.importorskip("playwright.sync_api", reason="the browser tests need the playwright package")
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.agent]

TOKEN = "dashboard-test-token"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"auth": "token", "api_tokens": TOKEN})


def test_the_token_is_asked_for_kept_per_tab_and_used_for_the_live_stream(
    page: Page, dashboard: str, project: Path, fake_model: Callable[[Model], FakeAnthropic]
) -> None:
    fake_model(stalling(seconds=60))
    task = create_task(dashboard, project, "Think for a long time", token=TOKEN)
    page.goto(f"/#/tasks/{task['id']}")
    expect(page.locator("#notice")).to_have_text(
        "The server needs an API token: open the login URL `claudeserver serve` printed, "
        "or enter the token above."
    )
    expect(page.get_by_label("API token")).to_be_focused()
    screenshot(page, "token-rejected")

    page.get_by_label("API token").fill(TOKEN)
    page.keyboard.press("Enter")
    # The status goes from pending to running through the EventSource (?access_token=).
    expect(page.locator("#task-status")).to_have_text("running", timeout=AGENT_TIMEOUT)

    page.reload()  # sessionStorage keeps the token for this tab
    expect(page.locator("#timeline")).to_contain_text("running")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator("#task-status")).to_have_text("cancelled")
    assert TOKEN not in page.url


def test_the_login_url_logs_the_tab_in_and_leaves_the_address_bar(
    page: Page, dashboard: str, project: Path
) -> None:
    with httpx.Client(base_url=dashboard, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        assert http.post("/api/v1/sessions", json={"project_path": str(project)}).is_success
    page.goto(f"/?token={TOKEN}#/")  # as `claudeserver serve` prints it
    expect(page.locator("main")).to_contain_text(str(project))
    expect(page.locator("#notice")).to_be_hidden()
    assert page.url == f"{dashboard}/#/"
    assert page.evaluate("() => sessionStorage.getItem('claudeserver.token')") == TOKEN
    page.reload()
    expect(page.locator("main")).to_contain_text(str(project))
