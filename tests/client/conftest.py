from __future__ import annotations

from collections.abc import Iterator

import pytest

from claudeserver.settings import Settings
from tests.web.live import live_server


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    with live_server(settings) as url:
        yield url
