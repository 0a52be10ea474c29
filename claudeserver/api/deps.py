"""Dependency and parameter aliases for routes.

All `async def`: FastAPI runs plain `def` dependencies in its thread pool, and a thread
hop per dependency costs more than the work they do (none of it waits for long).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session as DB

from claudeserver.domain.executor import Executor
from claudeserver.settings import Settings


async def _db(request: Request) -> AsyncIterator[DB]:
    # Opening a session connects lazily; closing hands the connection back to the pool.
    with request.app.state.sessionmaker() as session:
        yield session


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _executor(request: Request) -> Executor | None:
    executor: Executor | None = request.app.state.executor
    return executor


SessionDep = Annotated[DB, Depends(_db)]
SettingsDep = Annotated[Settings, Depends(_settings)]
ExecutorDep = Annotated["Executor | None", Depends(_executor)]
# ?branch=true on the deletes that remove a task's workspace
DeleteBranch = Annotated[bool, Query(description="also delete the task's branch")]
