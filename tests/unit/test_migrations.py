"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, column, insert, select, table
from sqlalchemy.exc import IntegrityError

from claudeserver.persistence.db import MIGRATIONS, make_engine, migrate
from claudeserver.persistence.models import Base, TestCase
from claudeserver.persistence.testcases import stored_test_name


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    migrate(engine)  # running them again is harmless
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert differences == [], "models changed without a migration: run scripts/new-migration"


def test_upgrading_keeps_one_row_per_test_and_then_refuses_duplicates(database_url: str) -> None:
    """Databases of earlier versions hold test ids stored twice (issue 15): the newest row
    stays, ids too long for PostgreSQL's index are shortened, and the database refuses
    duplicates from then on."""
    engine = make_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    at = datetime(2026, 1, 1)
    long_name = "tests/test_x.py::test_y[" + "x" * 3000 + "]"
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
        row = {"created_at": at, "updated_at": at}
        session = {"id": "s", "project_path": "/p", "isolation": "none", "review": False}
        _insert(conn, "sessions", [{**row, **session, "trust_project_settings": False}])
        counters = "priority resumes iterations pauses test_rounds input_tokens output_tokens"
        task = {"id": "t", "session_id": "s", "description": "d", "status": "completed"}
        numbers = {"attempt": 1, "cost_usd": 0.0} | dict.fromkeys(counters.split(), 0)
        _insert(conn, "tasks", [{**row, **task, **numbers}])
        cases = [("a", "passed"), ("a", "failed"), (long_name, "passed")]
        _insert(conn, "test_cases", [
            {**row, "task_id": "t", "name": name, "type": "regression", "status": status}
            for name, status in cases
        ])  # fmt: skip
    migrate(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            select(TestCase.name, TestCase.status, TestCase.baseline_status, TestCase.flaky)
        ).all()
        assert sorted(rows) == sorted(
            [("a", "failed", None, False), (stored_test_name(long_name), "passed", None, False)]
        )
        with pytest.raises(IntegrityError):
            conn.execute(
                insert(TestCase),
                [{"task_id": "t", "name": "a", "type": "regression", "status": "passed"}],
            )
    engine.dispose()


def _insert(conn: Connection, name: str, rows: list[dict[str, object]]) -> None:
    """Rows as an older schema takes them (the models describe the newest)."""
    conn.execute(insert(table(name, *(column(c) for c in rows[0]))), rows)
