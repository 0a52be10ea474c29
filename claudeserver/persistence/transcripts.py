"""Claude Code session transcripts in the database, line by line (see TranscriptEntry)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DB

from claudeserver.persistence.models import TranscriptEntry
from claudeserver.persistence.transactions import insert

MAIN = ""  # the subpath of a session's main transcript


def append(
    db: DB, *, project_key: str, session_id: str, subpath: str, entries: Sequence[Mapping[str, Any]]
) -> None:
    """Add lines after the stored ones; a line whose uuid is already stored is skipped.

    The SDK retries a failed append, which may have partly landed before failing.
    """
    rows = [
        {
            "project_key": project_key,
            "session_id": session_id,
            "subpath": subpath,
            "uuid": entry.get("uuid"),
            "entry": entry,
        }
        for entry in entries
    ]
    db.execute(insert(db, TranscriptEntry).on_conflict_do_nothing(), rows)
    db.commit()


def load(db: DB, *, project_key: str, session_id: str, subpath: str) -> list[dict[str, Any]]:
    """The stored lines in the order they were appended; empty if none were."""
    return list(
        db.scalars(
            select(TranscriptEntry.entry)
            .where(
                TranscriptEntry.project_key == project_key,
                TranscriptEntry.session_id == session_id,
                TranscriptEntry.subpath == subpath,
            )
            .order_by(TranscriptEntry.id)
        )
    )


def subpaths(db: DB, *, project_key: str, session_id: str) -> list[str]:
    """The session's other transcripts (subagents), without the main one."""
    return list(
        db.scalars(
            select(TranscriptEntry.subpath)
            .where(
                TranscriptEntry.project_key == project_key,
                TranscriptEntry.session_id == session_id,
                TranscriptEntry.subpath != MAIN,
            )
            .distinct()
        )
    )
