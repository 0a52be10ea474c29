"""HTTP helpers for the benchmark's side of the API: submit tasks, follow events, pace load."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

TERMINAL = frozenset({"completed", "failed", "cancelled"})


@dataclass(frozen=True)
class SseEvent:
    type: str
    data: dict[str, Any]
    received: float  # time.perf_counter() when the event was complete
    received_utc: datetime  # naive UTC, comparable with the server's created_at


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


async def create_session(client: httpx.AsyncClient, project: Path) -> str:
    response = await client.post("/api/v1/sessions", json={"project_path": str(project)})
    response.raise_for_status()
    return str(response.json()["id"])


async def submit(client: httpx.AsyncClient, session_id: str, description: str) -> str:
    response = await client.post(
        "/api/v1/tasks", json={"session_id": session_id, "description": description}
    )
    response.raise_for_status()
    return str(response.json()["id"])


def _parse(lines: Iterator[str] | list[str]) -> tuple[str, dict[str, Any]] | None:
    kind, data = "message", ""
    for line in lines:
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
    if not data:
        return None
    return kind, json.loads(data)


async def aiter_sse(response: httpx.Response) -> AsyncIterator[SseEvent]:
    block: list[str] = []
    async for line in response.aiter_lines():
        if line:
            block.append(line)
            continue
        parsed = _parse(block)
        block = []
        if parsed is not None:
            yield SseEvent(parsed[0], parsed[1], time.perf_counter(), utcnow())


async def wait_done(client: httpx.AsyncClient, task_id: str, timeout: float) -> SseEvent:
    """Follow a task's event stream until its `done` event (the server sends it at the end)."""
    deadline = time.perf_counter() + timeout
    async with client.stream(
        "GET", f"/api/v1/tasks/{task_id}/events", timeout=httpx.Timeout(5, read=timeout)
    ) as response:
        response.raise_for_status()
        async for event in aiter_sse(response):
            if event.type == "done":
                return event
            if time.perf_counter() > deadline:
                break
    raise TimeoutError(f"task {task_id} did not finish within {timeout:g} s")


async def wait_terminal(
    client: httpx.AsyncClient, task_ids: set[str], timeout: float
) -> dict[str, tuple[str, float]]:
    """Follow the global event stream until every task ended: {id: (status, perf time)}."""
    ended: dict[str, tuple[str, float]] = {}
    deadline = time.perf_counter() + timeout
    async with client.stream(
        "GET", "/api/v1/events", timeout=httpx.Timeout(5, read=timeout)
    ) as response:
        response.raise_for_status()
        async for event in aiter_sse(response):
            data = event.data
            finished = data.get("kind") == "status" and data.get("content") in TERMINAL
            if finished and data.get("task_id") in task_ids:
                ended[str(data["task_id"])] = (str(data["content"]), event.received)
            if len(ended) == len(task_ids) or time.perf_counter() > deadline:
                break
    return ended


LATE_SECONDS = 0.25


@dataclass
class EventRecorder:
    """Reads `/api/v1/events` in its own thread and keeps each live event's delay.

    Delay = receive time - the interaction's created_at (both naive UTC, one machine).
    Events stored before the recorder connected (the replayed history) are skipped.
    """

    url: str
    delays: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)  # the first events over LATE_SECONDS
    _cursor: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _connected: threading.Event = field(default_factory=threading.Event)

    def start(self) -> EventRecorder:
        self._thread = threading.Thread(target=self._run, daemon=True, name="bench-events")
        self._thread.start()
        if not self._connected.wait(10):
            raise RuntimeError(f"no event stream from {self.url}: {self.errors}")
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        since = utcnow()
        while not self._stop.is_set():
            try:
                self._follow(since)
            except httpx.ReadTimeout:
                continue  # a quiet stream (the server sends no keep-alives): reconnect
            except httpx.HTTPError as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
                time.sleep(0.2)
            finally:
                self._connected.set()

    def _follow(self, since: datetime) -> None:
        # A short read timeout bounds how long stop() waits on a quiet stream. A reconnect
        # goes on after the last event received (kept on self, as a timeout ends this call
        # by an exception): replayed events would count again, with ever larger delays.
        with httpx.stream(
            "GET",
            f"{self.url}/api/v1/events",
            params={"after": self._cursor},
            timeout=httpx.Timeout(5, read=1.5),
        ) as response:
            response.raise_for_status()
            self._connected.set()
            block: list[str] = []
            for line in response.iter_lines():
                if self._stop.is_set():
                    break
                if line:
                    block.append(line)
                    continue
                self._cursor = next(
                    (int(b[3:]) for b in block if b.startswith("id:")), self._cursor
                )
                parsed, block = _parse(block), []
                if parsed is None or parsed[0] != "interaction":
                    continue
                created = datetime.fromisoformat(parsed[1]["created_at"])
                if created >= since:
                    delay = (utcnow() - created).total_seconds()
                    self.delays.append(delay)
                    if delay > LATE_SECONDS and len(self.late) < 20:
                        data = parsed[1]
                        self.late.append(f"{delay:.2f}s {data['role']}/{data['kind']}")


@dataclass
class Paced:
    """Latencies per label from a fixed-rate request loop."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    sent: int = 0


def paced_requests(
    url: str,
    paths: Callable[[int], tuple[str, str]],
    *,
    rate: float,
    count: int,
    max_seconds: float,
    on_tick: Callable[[], None] | None = None,
) -> Paced:
    """Send `count` GETs at `rate`/s (at most `max_seconds`); `paths(i)` -> (label, path).

    Sends are scheduled on a fixed timeline; a slow answer delays the next send rather
    than piling up requests, and the latency of every request is its own round trip.
    """
    result = Paced()
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=10) as client:
        for i in range(count):
            due = started + i / rate
            now = time.perf_counter()
            if now - started > max_seconds:
                break
            if due > now:
                time.sleep(due - now)
            label, path = paths(i)
            sent = time.perf_counter()
            try:
                ok = client.get(path).status_code == 200
            except httpx.HTTPError:
                ok = False
            result.sent += 1
            if not ok:
                result.errors += 1
                continue
            result.latencies.setdefault(label, []).append(time.perf_counter() - sent)
            if on_tick is not None:
                on_tick()
    return result
