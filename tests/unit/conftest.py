"""Fixtures of the unit tests that run the task loop on a real database."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from claudeserver.persistence.db import make_engine, make_sessionmaker, migrate
from claudeserver.settings import Settings


@pytest.fixture
def db(settings: Settings) -> sessionmaker[Session]:
    engine = make_engine(settings.database_url)
    migrate(engine)
    return make_sessionmaker(engine)


@pytest.fixture
def quick(settings: Settings) -> Settings:
    settings.sandbox = "off"
    settings.human_think_seconds = 0
    return settings
