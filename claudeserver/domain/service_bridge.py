"""Named host services for confined test runs: a project's tests may use a database or a
cache on this machine's loopback without the run getting the host's network.

A confined run has a network namespace of its own, so the host's 127.0.0.1 is out of its
reach. For each service the session names (`"127.0.0.1:5432"`), socat on the host listens
on a Unix socket in a directory the run can see and forwards to the service; inside the
run, socat listens on the same loopback address and port and forwards to that socket. The
run reaches exactly those ports, nothing else of the host (the same bridging Claude Code
uses for its own sandbox's proxy).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import shlex
import shutil
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

LOOPBACK_NAMES = ("localhost",)
_READY_SECONDS = 5.0


@dataclass(frozen=True)
class Service:
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Service:
        """`host:port` on this machine's loopback; ValueError saying what is wrong."""
        host, sep, port = text.rpartition(":")
        host = host.strip("[]")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{text!r} is not host:port (e.g. 127.0.0.1:5432)")
        if host not in LOOPBACK_NAMES:
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = False
            if not loopback:
                raise ValueError(f"{text!r} is not on this machine's loopback")
        return cls(host, int(port))

    @property
    def socket_name(self) -> str:
        return f"service-{self.port}.sock"


def inside_command(services: Sequence[Service], directory: Path) -> list[str]:
    """A prefix for the confined command: listeners for each service, then the command."""
    listeners = " ".join(
        f"socat TCP-LISTEN:{s.port},bind=127.0.0.1,fork,reuseaddr "
        f"UNIX-CONNECT:{shlex.quote(str(directory / s.socket_name))} &"
        for s in services
    )
    # The tests start once every listener is bound: looked up in the namespace's socket
    # table, as a trial connection would reach the service itself.
    ready = " ".join(f"_wait {s.port:04X};" for s in services)
    script = (
        "_wait() { i=0; while [ $i -lt 100 ] && "
        '! grep -q ":$1 00000000:0000 0A" /proc/net/tcp; do i=$((i+1)); sleep 0.02; done; }; '
        f'{listeners} {ready} exec "$@"'
    )
    return ["bash", "-c", script, "bridge"]


@contextlib.asynccontextmanager
async def host_side(services: Sequence[Service], directory: Path) -> AsyncIterator[None]:
    """socat on the host, one per service, for as long as the run lasts."""
    socat = shutil.which("socat")
    if not services:
        yield
        return
    if socat is None:
        raise RuntimeError("socat is not installed, so host services cannot be bridged")
    processes = []
    try:
        for service in services:
            target = f"TCP:{service.host}:{service.port}"
            path = directory / service.socket_name
            processes.append(
                await asyncio.create_subprocess_exec(
                    socat,
                    f"UNIX-LISTEN:{path},fork,unlink-early",
                    target,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
            await _appears(path)
        yield
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


async def _appears(path: Path) -> None:
    for _ in range(int(_READY_SECONDS / 0.02)):
        if path.exists():
            return
        await asyncio.sleep(0.02)
