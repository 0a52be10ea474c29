"""procrastinate's own tables, created at start next to ours, safely from many processes."""

from __future__ import annotations

from procrastinate.schema import SchemaManager
from sqlalchemy import Engine, make_url, text

# Any fixed number: PostgreSQL advisory locks are keyed by a bigint the whole cluster shares.
SCHEMA_LOCK = 0x636C61756465  # "claude"


def conninfo(database_url: str) -> str:
    """libpq's URL (postgresql://…) from SQLAlchemy's (postgresql+psycopg://…)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def ensure_schema(engine: Engine) -> bool:
    """Create procrastinate's schema unless it exists; True when this call created it.

    API and worker processes may start together on an empty database: the advisory lock
    makes the second wait, and then it finds the tables. procrastinate ships its schema as
    one SQL script plus versioned migration scripts, and has no bookkeeping of its own, so
    upgrading an existing schema is an operator step (docs/operations.md).
    """
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is not None:
            return False
        # Straight to psycopg without parameters: the script's % signs are literal SQL.
        conn.connection.driver_connection.execute(SchemaManager.get_schema())  # type: ignore[union-attr]
    return True
