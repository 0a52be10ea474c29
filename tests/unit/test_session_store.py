"""DatabaseSessionStore against the SDK's SessionStore conformance suite, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import pytest
from claude_agent_sdk import SessionKey, SessionStore, SessionStoreEntry
from claude_agent_sdk.testing import run_session_store_conformance
from sqlalchemy import delete
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.agent.session_store import DatabaseSessionStore
from claudeserver.persistence.db import make_engine, make_sessionmaker, migrate
from claudeserver.persistence.models import TranscriptEntry

KEY: SessionKey = {
    "project_key": "-srv-project",
    "session_id": "0b5e2c1d-4a53-4c8e-9d8a-1f2e3d4c5b6a",
}


@pytest.fixture
def db(database_url: str) -> Iterator[sessionmaker[DB]]:
    engine = make_engine(database_url)
    migrate(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


async def test_conformance(db: sessionmaker[DB]) -> None:
    def fresh() -> SessionStore:
        with db() as s:  # each contract starts from an empty store
            s.execute(delete(TranscriptEntry))
            s.commit()
        return cast("SessionStore", DatabaseSessionStore(db))

    await run_session_store_conformance(fresh)


async def test_a_retried_append_does_not_duplicate_lines(db: sessionmaker[DB]) -> None:
    store = DatabaseSessionStore(db)
    first = [_entry("user", "u1"), _entry("assistant", "a1")]
    await store.append(KEY, first)
    # The SDK retries a batch that failed after partly landing; lines without a uuid
    # (titles, tags) are not deduplicated.
    await store.append(KEY, [*first, _entry("assistant", "a2"), _entry("custom-title")])
    await store.append(KEY, [_entry("custom-title")])

    loaded = await store.load(KEY)
    assert loaded is not None
    assert [(e["type"], e.get("uuid")) for e in loaded] == [
        ("user", "u1"),
        ("assistant", "a1"),
        ("assistant", "a2"),
        ("custom-title", None),
        ("custom-title", None),
    ]


async def test_entries_round_trip_unchanged(db: sessionmaker[DB]) -> None:
    store = DatabaseSessionStore(db)
    text = {"type": "text", "text": "héllo ✓ \x00 \\"}
    entry = cast("SessionStoreEntry", {"type": "user", "message": {"content": [text]}})
    await store.append(KEY, [entry])
    assert await store.load(KEY) == [entry]


def _entry(kind: str, uuid: str | None = None) -> SessionStoreEntry:
    entry: SessionStoreEntry = {"type": kind}
    if uuid is not None:
        entry["uuid"] = uuid
    return entry
