from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from claudeserver.api.app import create_app
from claudeserver.settings import Settings
from tests.web.live import live_server

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = Path(__file__).parents[2] / "scripts" / "install-chromium"
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page


def _ensure_chromium() -> None:
    if CHROMIUM.exists():
        return
    done = subprocess.run([str(INSTALL)], capture_output=True, text=True, check=False)
    if done.returncode != 0 or not CHROMIUM.exists():
        pytest.skip(f"no Chromium for the browser tests: {done.stderr.strip() or done.stdout}")


# Per package, not per session: Playwright's sync API keeps an event loop running in this
# thread while it is open, and tests elsewhere call asyncio.run.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the browser tests need the playwright package"
    )
    _ensure_chromium()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def dashboard(settings: Settings) -> Iterator[str]:
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture
def page(browser: Browser, dashboard: str) -> Iterator[Page]:
    # Closed before the server stops, so no event stream holds up its shutdown.
    context = browser.new_context(base_url=dashboard, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def screenshot(page: Page, name: str, part: Locator | None = None) -> None:
    """The whole page, or just `part` of it where the whole is too long to read."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = str(ARTIFACTS / f"{name}.png")
    if part is None:
        page.screenshot(path=path, full_page=True)
    else:
        part.screenshot(path=path)
