from __future__ import annotations

from collections.abc import Iterator

import pytest

from claudeserver.settings import Settings
from tests.web.live import dashboard_app, live_server


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    with live_server(dashboard_app(settings)) as url:
        yield url
