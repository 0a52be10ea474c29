"""The fake Anthropic API in its own process.

Run apart from the benchmark so its request handling never competes with the floor
script or the load generator for one interpreter's GIL — the server and the floor see
the same separate fake.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType

from benchmarks import scenario
from claudeserver.testing import FakeAnthropic

START_TIMEOUT_SECONDS = 30
REPO_ROOT = Path(__file__).resolve().parents[1]


class FakeProcess:
    """`with FakeProcess() as fake:` — `fake.env` points a Claude Code CLI at it."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[str] | None = None
        self.env: dict[str, str] = {}

    def __enter__(self) -> FakeProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.fake"],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            # Cancelled tasks hang up mid-answer; the fake's broken-pipe tracebacks are noise.
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        timer = threading.Timer(START_TIMEOUT_SECONDS, self.process.kill)
        timer.start()
        try:
            line = self.process.stdout.readline()
        finally:
            timer.cancel()
        try:
            self.env = dict(json.loads(line))
        except ValueError:
            self.stop()
            raise RuntimeError("the fake model process did not start") from None
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def main() -> None:
    fake = FakeAnthropic(scenario.model())
    # Nothing reads the request log here; a bounded one keeps a long run's memory flat.
    fake.requests = collections.deque(maxlen=16)  # type: ignore[assignment]
    fake.start()
    print(json.dumps(fake.env()), flush=True)
    threading.Event().wait()  # serve until killed


if __name__ == "__main__":
    main()
