"""The client against a server that requires an API token."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from claudeserver.api.app import create_app
from claudeserver.client import token_for
from claudeserver.settings import Settings
from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from tests.client.conftest import Run
from tests.models import FIXED, calculator
from tests.web.live import live_server

TOKEN = "cli-test-token"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"auth": "token", "api_tokens": TOKEN})


def test_a_missing_or_wrong_token_exits_3_with_a_hint(
    cli: Run, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hints = {
        None: "the server needs a token: set CLAUDESERVER_TOKEN (a server on this machine keeps "
        "it in its TOKEN_FILE, ~/.claudeserver/token by default)",
        "wrong": "the server rejected the token: set CLAUDESERVER_TOKEN",
    }
    for token, hint in hints.items():
        if token is None:
            monkeypatch.delenv("CLAUDESERVER_TOKEN", raising=False)
        else:
            monkeypatch.setenv("CLAUDESERVER_TOKEN", token)
        code, out, err = cli("tasks", "--server", server)
        assert (code, out) == (3, "")
        assert err.strip() == f"claudeserver: {hint}"


def test_the_token_a_server_on_this_machine_made_is_read_from_its_file(
    cli: Run, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = tmp_path / "data" / "token"
    monkeypatch.setenv("TOKEN_FILE", str(token_file))  # as the server's own environment says
    generated = settings.model_copy(update={"api_tokens": "", "token_file": token_file})
    with live_server(create_app(generated)) as url:
        for server in (url, url.replace("127.0.0.1", "localhost")):
            code, _, err = cli("sessions", "--server", server)
            assert code == 0, err
        token = token_file.read_text().strip()
        assert token_for(url) == token
        monkeypatch.setenv("CLAUDESERVER_TOKEN", "chosen")  # the variable wins
        assert token_for(url) == "chosen"
    monkeypatch.delenv("CLAUDESERVER_TOKEN")
    # This machine's token is never sent to another machine's server.
    assert token_for("http://claude.example.com:8000") is None


@pytest.mark.agent
def test_the_token_carries_a_followed_submission(
    cli: Run,
    server: str,
    project: Path,
    fake_model: Callable[[Model], FakeAnthropic],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_model(calculator(first=FIXED))
    monkeypatch.setenv("CLAUDESERVER_TOKEN", TOKEN)
    code, out, err = cli("submit", str(project), "Add add()", "--follow", "--server", server)
    assert code == 0, out + err
