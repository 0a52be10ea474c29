from __future__ import annotations

from collections.abc import Iterator

import pytest

from claudeserver.api.app import create_app
from claudeserver.settings import Settings
from tests.web.live import live_server

TOKEN = "mcp-test-token"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"auth": "token", "api_tokens": TOKEN})


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    """A live server that requires the token, for MCP clients over a real socket."""
    with live_server(create_app(settings)) as url:
        yield url
