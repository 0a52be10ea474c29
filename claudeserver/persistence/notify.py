"""Wakes event-stream readers whenever anything is committed (in this process).

Readers still re-query the database, so a missed wake-up only costs the poll interval,
and writes from other processes are seen through that poll.
"""

from __future__ import annotations

import asyncio
import threading
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

    async def wait(self, timeout: float) -> None:
        """Return after the next commit, or after `timeout` seconds."""
        flag = asyncio.Event()
        entry = (asyncio.get_running_loop(), flag)
        with self._lock:
            self._waiters.add(entry)
        try:
            await asyncio.wait_for(flag.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(entry)
