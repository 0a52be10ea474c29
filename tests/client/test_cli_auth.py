"""The client against a server that requires an API token."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from claudeserver.settings import Settings
from claudeserver.testing import FakeAnthropic
from claudeserver.testing.fake_anthropic import Model
from tests.client.conftest import Run
from tests.models import FIXED, calculator

TOKEN = "cli-test-token"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"api_tokens": TOKEN})


def test_a_missing_or_wrong_token_exits_3_with_a_hint(
    cli: Run, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for token in (None, "wrong"):
        if token is None:
            monkeypatch.delenv("CLAUDESERVER_TOKEN", raising=False)
        else:
            monkeypatch.setenv("CLAUDESERVER_TOKEN", token)
        code, out, err = cli("tasks", "--server", server)
        assert (code, out) == (3, "")
        assert err.strip() == "claudeserver: the server rejected the token: set CLAUDESERVER_TOKEN"


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
