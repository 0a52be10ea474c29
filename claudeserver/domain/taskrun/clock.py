"""The task's clock: TASK_TIMEOUT_SECONDS counts the time a task works, not the time it
waits for a person to answer an approval (a task left waiting overnight must not time
out for want of an answer the simulated human would have given after
APPROVAL_TIMEOUT_SECONDS anyway)."""

from __future__ import annotations

import time
from collections.abc import Callable


class TaskClock:
    def __init__(self, limit: float, now: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._now = now
        self._started = now()
        self._held = 0.0  # seconds spent in finished holds
        self._held_since: float | None = None

    def hold(self) -> None:
        """The task waits for a person from now on."""
        if self._held_since is None:
            self._held_since = self._now()

    def release(self) -> None:
        """The task works again."""
        if self._held_since is not None:
            self._held += self._now() - self._held_since
            self._held_since = None

    def worked(self) -> float:
        now = self._now()
        holding = now - self._held_since if self._held_since is not None else 0.0
        return now - self._started - self._held - holding

    def expired(self) -> bool:
        return self.worked() >= self.limit
