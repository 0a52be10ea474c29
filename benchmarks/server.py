"""The real server as an OS process (`python -m claudeserver serve`) on 127.0.0.1.

Always used as a context manager: the whole process group (the server, its Claude Code
CLIs and their test runs) is killed on the way out, whatever happened.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from benchmarks.fake import REPO_ROOT

START_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(workdir: Path, fake_env: dict[str, str], **settings: object) -> dict[str, str]:
    """Settings for a benchmark server: no human pauses, the bundled CLI, a private DB."""
    env = {
        **fake_env,
        "DATABASE_URL": f"sqlite:///{workdir / 'tasks.db'}",
        "WORKSPACES_DIR": str(workdir / "workspaces"),
        # Same CLI as the floor script (the SDK's bundled one), whatever is on PATH.
        "CLAUDE_CLI_COMMAND": "",
        "HUMAN_THINK_SECONDS": "0",
        "MAX_PAUSES": "0",
        "HUMAN_SEED": "7",
        "LOG_LEVEL": "warning",
        "AUTH": "none",  # loopback only; what is measured is the work, not the token check
    }
    env.update({k.upper(): str(v) for k, v in settings.items()})
    return env


class BenchServer:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        # It runs from a scratch directory (so no developer's .env is read): import from here.
        paths = [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        self.env["PYTHONPATH"] = os.pathsep.join(paths)
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> BenchServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Launch and wait for the first good /health; `startup_seconds` is that wait."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            started = time.perf_counter()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "claudeserver", "serve"],
                env=self.env,
                cwd=self.log.parent,  # no stray .env is read from the repository
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = started + START_TIMEOUT_SECONDS
        with httpx.Client(timeout=1) as client:
            while time.perf_counter() < deadline:
                if self.process.poll() is not None:
                    break
                try:
                    if client.get(f"{self.url}/health").status_code == 200:
                        self.startup_seconds = time.perf_counter() - started
                        return
                except httpx.HTTPError:
                    time.sleep(0.005)
        raise RuntimeError(f"server did not start:\n{self.log_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def rss_bytes(self) -> int:
        """Resident memory of the server process alone (not its CLI children)."""
        return rss_bytes(self.pid)

    def children(self) -> list[int]:
        return child_pids(self.pid)


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def child_pids(pid: int) -> list[int]:
    """Direct children of `pid` (every thread's list, as /proc keeps them per thread)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
