"""Fixtures of the integration tests that more than one file needs."""

from __future__ import annotations

import platform
import shutil
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from claudeserver.api.app import create_app
from claudeserver.settings import Settings


@pytest.fixture
def sandboxed_api(settings: Settings) -> Iterator[TestClient]:
    """A server whose agent runs Bash in Claude Code's sandbox or not at all: SANDBOX=required
    refuses rather than falls back to the policy alone, since these tests are about the
    sandbox. Skipped off Linux; a missing bubblewrap or socat fails, with the fix."""
    if platform.system() != "Linux":
        pytest.skip("this test exercises the Linux sandbox (bubblewrap)")
    missing = [tool for tool in ("bwrap", "socat") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{' and '.join(missing)} missing: run scripts/install-sandbox")
    with TestClient(create_app(settings.model_copy(update={"sandbox": "required"}))) as client:
        yield client
