"""Engine and session factory; the schema comes from Alembic migrations applied at start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from claudeserver.persistence.storage import DiskReserve

MIGRATIONS = Path(__file__).with_name("migrations")
# Advisory lock key (any fixed bigint) that serialises migrations across processes.
MIGRATION_LOCK = 0x6D696772617465  # "migrate"


def open_database(url: str) -> Engine:
    """An engine on an up-to-date schema, with its disk space reserve in place."""
    engine = make_engine(url)
    migrate(engine)
    DiskReserve.for_database(url).ensure()
    return engine


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # A checkout must never wait: event loops also touch the database, and a loop
        # blocked on a full pool would stop the very threads that return connections. So
        # the overflow is unbounded; ten connections are kept for reuse.
        engine = create_engine(
            url,
            pool_size=10,
            max_overflow=-1,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers (status polling) proceed while the executor writes.
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def migrate(engine: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # API and worker processes may start at once on an empty database.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def database_status(db: Session | Connection, url: str) -> str:
    """ "ok", or what is wrong with the database: unreachable, or its disk (nearly) full."""
    try:
        db.execute(text("SELECT 1"))
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return DiskReserve.for_database(url).shortage() or "ok"
