"""Property-based fuzzing of every endpoint from the app's own OpenAPI schema."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import NegativeDataRejectionConfig

from claudeserver.api.app import create_app
from claudeserver.settings import Settings

# schemathesis collects operations at import time, so the app is built here; its
# database lives in a directory of its own and the lifespan runs in a fixture.
_HOME = Path(tempfile.mkdtemp(prefix="claudeserver-fuzz-"))
APP = create_app(
    Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{_HOME / 'fuzz.db'}",
        workspaces_dir=_HOME / "workspaces",
        # Fuzzes what the routes accept; the boundary has its own tests. schemathesis calls
        # the app as "testserver".
        auth="none",
        allowed_hosts="testserver",
    ),
    run_worker=False,  # fuzzed tasks must not start agents
)
# A body over MAX_REQUEST_BYTES is rejected before validation with 413, which is a
# rejection too.
_REJECTIONS = [*NegativeDataRejectionConfig().expected_statuses, "413"]
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": _REJECTIONS}}}
)
# Streams follow a task until it ends: they have their own tests.
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG).exclude(
    path_regex=r"/events$"
)


@pytest.fixture(scope="module", autouse=True)
def running_app() -> Iterator[None]:
    with TestClient(APP):  # runs the lifespan: database and migrations
        yield


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors_and_responses_match_the_schema(case: schemathesis.Case) -> None:
    # Semantic checks (an existing directory, a known session) rightly reject some
    # schema-valid input, so "positive data acceptance" does not apply.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
