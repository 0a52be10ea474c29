"""What runs tasks: the in-process worker, or a distributed queue's workers."""

from __future__ import annotations

from typing import Protocol


class Executor(Protocol):
    def start(self) -> None:
        """Begin work; called inside the server's running event loop."""

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop taking work and interrupt running tasks so they resume at the next start."""

    def submit(self, task_id: str) -> None:
        """A task became pending (created or retried). Safe from any thread."""

    def task_ended(self, task_id: str) -> None:
        """A task reached a final status without its runner (a cancelled pending task)."""
