"""The event log (interaction rows) as a live stream: replay from a cursor, then follow."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.api.presenters import task_status
from claudeserver.persistence import interactions, tasks
from claudeserver.persistence.models import ClaudeInteraction
from claudeserver.persistence.notify import CommitNotifier
from claudeserver.vocabulary import Kind, TaskStatus

BATCH = 500
POLL_SECONDS = 1.0  # also how often writes from other processes are picked up


@dataclass(frozen=True)
class Event:
    id: int
    type: str
    data: dict[str, Any]

    def sse(self) -> str:
        return f"id: {self.id}\nevent: {self.type}\ndata: {json.dumps(self.data, default=str)}\n\n"


def event_type(row: ClaudeInteraction) -> str:
    if row.kind in ("status", "progress"):
        return "status"
    if row.kind == "test_result":
        return "test_result"
    if row.kind in (Kind.APPROVAL_REQUEST.value, Kind.APPROVAL.value):
        return "approval"
    return "interaction"


def to_event(row: ClaudeInteraction, *, global_ids: bool) -> Event:
    data = {
        "task_id": row.task_id,
        "sequence": row.sequence,
        "role": row.role,
        "kind": row.kind,
        "content": row.content,
        "data": row.data,
        "created_at": row.created_at.isoformat(),
    }
    return Event(row.id if global_ids else row.sequence, event_type(row), data)


async def task_events(
    db: sessionmaker[DB],
    notifier: CommitNotifier,
    *,
    task_id: str,
    after: int,
    disconnected: Callable[[], Any],
    follow: bool = False,
) -> AsyncIterator[Event]:
    """Replay a task's events after `after`, follow live, end with `done` once it finishes.

    With `follow` the stream goes on after `done`: a finished task still changes (review
    comments, a retry or a follow-up from elsewhere), and each later end is `done` again.
    """
    cursor = after
    status_moved = True  # since the last `done`: only then is an end news

    def fetch() -> tuple[Sequence[ClaudeInteraction], dict[str, Any] | None]:
        with db() as s:
            # The status first, then the rows: SQLite's driver reads without a snapshot,
            # and rows read before an end seen after them would miss the end's own rows.
            task = tasks.get_task(s, task_id=task_id)
            final = None
            if task is not None and TaskStatus(task.status).is_terminal:
                final = task_status(s, task).model_dump(mode="json")
            rows = interactions.interactions_after(s, task_id=task_id, after=cursor, limit=BATCH)
            return rows, final

    with notifier.subscribe() as commits:
        while not await disconnected():
            # In a thread: the event loop serves every other request meanwhile.
            rows, final_status = await asyncio.to_thread(fetch)
            for row in rows:
                cursor = row.sequence
                status_moved = status_moved or row.kind == Kind.STATUS.value
                yield to_event(row, global_ids=False)
            if len(rows) == BATCH:
                continue
            if final_status is not None and status_moved:
                yield Event(cursor, "done", final_status)
                if not follow:
                    return
                status_moved = False
            await commits.wait(POLL_SECONDS)


async def all_events(
    db: sessionmaker[DB],
    notifier: CommitNotifier,
    *,
    after: int,
    session_id: str | None,
    disconnected: Callable[[], Any],
) -> AsyncIterator[Event]:
    """Every task's events (optionally one session's), following forever."""
    cursor = after

    def fetch() -> Sequence[ClaudeInteraction]:
        with db() as s:
            return interactions.interactions_after(
                s, task_id=None, after=cursor, limit=BATCH, session_id=session_id
            )

    with notifier.subscribe() as commits:
        while not await disconnected():
            rows = await asyncio.to_thread(fetch)
            for row in rows:
                cursor = row.id
                yield to_event(row, global_ids=True)
            if len(rows) < BATCH:
                await commits.wait(POLL_SECONDS)
