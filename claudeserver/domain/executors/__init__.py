"""What runs tasks: the in-process Worker (the default), or procrastinate's PostgreSQL queue.

With EXECUTOR=procrastinate the API defers one job per task run and `claudeserver worker`
processes, on any machine that reaches the database, run them (see docs/operations.md).
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.domain.executor import Executor
from claudeserver.domain.worker import Worker
from claudeserver.settings import Settings


def make_executor(
    settings: Settings, engine: Engine, db: sessionmaker[DB], *, run_worker: bool
) -> Executor | None:
    """The executor a server process submits to; None when it only serves the API."""
    if settings.executor == "local":
        return Worker(settings, db) if run_worker else None
    from claudeserver.domain.executors.queued import QueueExecutor
    from claudeserver.domain.executors.schema import ensure_schema

    ensure_schema(engine)
    return QueueExecutor(settings, db, run_worker=run_worker)
