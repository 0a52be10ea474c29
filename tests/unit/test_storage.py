"""Database faults the API reports with what to do: a lost database, a full disk."""

from __future__ import annotations

import errno

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from claudeserver.api.app import create_app
from claudeserver.persistence.storage import DiskReserve, is_storage_full, storage_advice
from claudeserver.settings import Settings
from tests.conftest import PG_ADMIN


def test_lost_database_answers_503_with_advice(settings: Settings, postgres_url: str) -> None:
    settings.database_url = postgres_url
    with TestClient(create_app(settings, run_worker=False)) as api:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = postgres_url.rsplit("/", 1)[1]
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()

        answer = api.post("/api/v1/sessions", json={"project_path": "/tmp"})

        assert answer.status_code == 503
        assert answer.headers["Retry-After"]
        assert "database is unavailable" in answer.json()["detail"]
        assert "DATABASE_URL" in answer.json()["detail"]
        health = api.get("/health").json()
        assert health["status"] == "degraded" and health["database"].startswith("error")


@pytest.mark.parametrize(
    ("error", "full"),
    [
        (psycopg.errors.DiskFull("could not extend file"), True),
        (OSError(errno.ENOSPC, "No space left on device", "/data/x.log"), True),
        (psycopg.errors.QueryCanceled("canceling statement"), False),
        (OSError(errno.EACCES, "Permission denied"), False),
    ],
)
def test_full_disks_are_told_apart_from_other_faults(error: Exception, full: bool) -> None:
    assert is_storage_full(error) is full


def test_advice_names_the_place_to_free() -> None:
    postgres = "postgresql+psycopg://db.example/claudeserver"
    assert DiskReserve.for_database(postgres).path is None
    assert "Free space on the database server's disk, then retry the task" in storage_advice(
        psycopg.errors.DiskFull("could not extend file"), postgres
    )
    full_file = OSError(errno.ENOSPC, "No space left on device", "/data/logs/x.log")
    assert "Free space on /data/logs, then restart the server" in storage_advice(
        full_file, "sqlite:////srv/tasks.db"
    )
