"""The SDK's `SessionStore` on the database, so any worker can resume any conversation.

With `ClaudeAgentOptions(session_store=...)` the SDK mirrors every transcript line the CLI
writes into the store, and `resume=` rebuilds the transcript from the store when it is
there, so a task continues on another machine even when the first one is gone.
"""

from __future__ import annotations

import asyncio
from typing import cast

from claude_agent_sdk import SessionKey, SessionListSubkeysKey, SessionStoreEntry
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.persistence import transcripts
from claudeserver.persistence.transcripts import MAIN


class DatabaseSessionStore:
    """Transcript lines as rows of `transcript_entries`.

    The queries run in a thread: an append carries up to a turn's worth of lines and a
    load a whole conversation, too much to parse on the event loop every task shares.

    Of the protocol's optional methods only `list_subkeys` (subagent transcripts, for a
    complete resume) is here; the SDK probes for the others and treats them as absent.
    They serve `continue_conversation` and the SDK's listing and deleting helpers, which
    claudeserver does not use. Not a subclass of `SessionStore` for that reason: mypy
    would take the protocol's placeholders for abstract methods.
    """

    def __init__(self, db: sessionmaker[DB]) -> None:
        self._db = db

    async def append(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        if entries:
            await asyncio.to_thread(self._append, key, entries)

    async def load(self, key: SessionKey) -> list[SessionStoreEntry] | None:
        entries = await asyncio.to_thread(self._load, key)
        return cast("list[SessionStoreEntry]", entries) or None

    async def list_subkeys(self, key: SessionListSubkeysKey) -> list[str]:
        return await asyncio.to_thread(self._subpaths, key)

    def _append(self, key: SessionKey, entries: list[SessionStoreEntry]) -> None:
        with self._db() as s:
            transcripts.append(
                s,
                project_key=key["project_key"],
                session_id=key["session_id"],
                subpath=key.get("subpath", MAIN),
                entries=entries,
            )

    def _load(self, key: SessionKey) -> list[dict[str, object]]:
        with self._db() as s:
            return transcripts.load(
                s,
                project_key=key["project_key"],
                session_id=key["session_id"],
                subpath=key.get("subpath", MAIN),
            )

    def _subpaths(self, key: SessionListSubkeysKey) -> list[str]:
        with self._db() as s:
            return transcripts.subpaths(
                s, project_key=key["project_key"], session_id=key["session_id"]
            )
