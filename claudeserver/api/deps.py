"""Dependency aliases for routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session as DB

from claudeserver.domain.executor import Executor
from claudeserver.settings import Settings


def _db(request: Request) -> Iterator[DB]:
    with request.app.state.sessionmaker() as session:
        yield session


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _executor(request: Request) -> Executor | None:
    executor: Executor | None = request.app.state.executor
    return executor


SessionDep = Annotated[DB, Depends(_db)]
SettingsDep = Annotated[Settings, Depends(_settings)]
ExecutorDep = Annotated["Executor | None", Depends(_executor)]
