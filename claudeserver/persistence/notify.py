"""Wakes event-stream readers whenever anything is committed (in this process).

Readers still re-query the database, so a missed wake-up only costs the poll interval,
and writes from other processes are seen through that poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker


class CommitNotifier:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def attach(self, factory: sessionmaker[Session]) -> None:
        event.listen(factory, "after_commit", self._on_commit)

    def _on_commit(self, _session: Any) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, flag in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(flag.set)

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[Subscription]:
        """Wake-ups for one reader, counted from now: a commit made while the reader is
        busy reading is not missed, its next `wait` returns at once."""
        subscription = Subscription()
        entry = (asyncio.get_running_loop(), subscription.flag)
        with self._lock:
            self._waiters.add(entry)
        try:
            yield subscription
        finally:
            with self._lock:
                self._waiters.discard(entry)


class Subscription:
    def __init__(self) -> None:
        self.flag = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        """Return after the next commit (or one since the last wait), or after `timeout`."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.flag.wait(), timeout)
        self.flag.clear()
