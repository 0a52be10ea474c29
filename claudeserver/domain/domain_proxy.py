"""The filtering proxy for test runs of a session with `test_network: "fetch_domains"`.

Such a run keeps a network namespace of its own (only its loopback), like the default,
and reaches the outside only through this proxy: an HTTP proxy the server runs on the
host for as long as the run lasts, on a Unix socket that service_bridge.py brings into the
run as 127.0.0.1:<port>, and that HTTP_PROXY/HTTPS_PROXY name there. It tunnels
`CONNECT host:port` (HTTPS) and forwards plain `http://` requests to the hosts the
session's agent may reach (the policy's fetch_domains) and answers 403 for any other,
before a name is even looked up. Names are resolved here, and the address connected to is
the one checked: private and loopback addresses only for hosts named outright,
link-local and cloud metadata addresses never (claudeserver.policy.proxy_refusal).

This is what Claude Code's own sandbox does for the agent's Bash (a filtering proxy
bridged in over a Unix socket), built on asyncio rather than started as another program.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from claudeserver.policy import proxy_refusal

log = logging.getLogger(__name__)

PORT = 3128  # inside the run; the next free one when a bridged service has it
TIMEOUT_SECONDS = 30.0
_CHUNK = 65536
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authorization"})


def environment(port: int) -> dict[str, str]:
    """The variables that send a run's HTTP(S) clients through the proxy; its own loopback
    stays direct."""
    url = f"http://127.0.0.1:{port}"
    local = "localhost,127.0.0.1,::1"
    return {
        "HTTP_PROXY": url, "HTTPS_PROXY": url, "http_proxy": url, "https_proxy": url,
        "NO_PROXY": local, "no_proxy": local,
    }  # fmt: skip


@contextlib.asynccontextmanager
async def serving(path: Path, domains: Sequence[str]) -> AsyncIterator[None]:
    """The proxy on the Unix socket `path`, letting through `domains`, until the block ends."""
    allowed = tuple(domains)
    connections: set[asyncio.Task[None]] = set()

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        connections.add(task)
        try:
            await _serve(reader, writer, allowed)
        finally:
            connections.discard(task)
            writer.close()

    server = await asyncio.start_unix_server(accept, path=str(path))
    try:
        yield
    finally:
        server.close()
        for task in list(connections):
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)


async def _serve(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, domains: tuple[str, ...]
) -> None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT_SECONDS)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
            ConnectionError):  # fmt: skip
        return
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
        host, port, forward = _target(method, target, lines[1:])
    except ValueError:
        await _answer(writer, 400, "Bad Request", f"not a proxy request: {lines[0][:200]!r}")
        return
    refusal = proxy_refusal(host, domains)
    addresses: list[str] = []
    if refusal is None:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            await _answer(writer, 502, "Bad Gateway", f"cannot resolve {host}: {exc}")
            return
        addresses = [str(info[4][0]) for info in found]
        refusal = proxy_refusal(host, domains, addresses)
    if refusal is not None:
        log.info("test-run proxy refused %s:%s: %s", host, port, refusal)
        await _answer(writer, 403, "Forbidden", f"claudeserver: {refusal} (test_network)")
        return
    try:
        upstream_reader, upstream = await asyncio.wait_for(
            asyncio.open_connection(addresses[0], port), TIMEOUT_SECONDS
        )
    except (OSError, asyncio.TimeoutError) as exc:
        await _answer(writer, 502, "Bad Gateway", f"cannot connect to {host}:{port}: {exc}")
        return
    try:
        if forward is None:
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            upstream.write(forward)
        await _relay(reader, writer, upstream_reader, upstream)
    finally:
        upstream.close()


def _target(method: str, target: str, headers: list[str]) -> tuple[str, int, bytes | None]:
    """(host, port, the request head to send on) — None for a CONNECT tunnel."""
    if method == "CONNECT":
        host, sep, port = target.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(target)
        return host.strip("[]"), int(port), None
    parts = urlsplit(target)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(target)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kept = [h for h in headers if h and h.split(":", 1)[0].strip().lower() not in _HOP_BY_HOP]
    head = "\r\n".join([f"{method} {path} HTTP/1.1", *kept, "Connection: close", "", ""])
    return parts.hostname, parts.port or 80, head.encode("latin-1")


async def _relay(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    upstream_reader: asyncio.StreamReader,
    upstream: asyncio.StreamWriter,
) -> None:
    """Both ways until the far end is done; the client's end of input is passed on."""
    sending = asyncio.ensure_future(_copy(reader, upstream, half_close=True))
    try:
        await _copy(upstream_reader, writer, half_close=False)
    finally:
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)


async def _copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter, *, half_close: bool) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await src.read(_CHUNK):
            dst.write(data)
            await dst.drain()
        if half_close and dst.can_write_eof():
            dst.write_eof()


async def _answer(writer: asyncio.StreamWriter, status: int, reason: str, text: str) -> None:
    body = (text + "\n").encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    with contextlib.suppress(ConnectionError, OSError):
        writer.write(head.encode() + body)
        await writer.drain()
