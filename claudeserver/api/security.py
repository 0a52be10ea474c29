"""Who may talk to the server (Host, Origin, bearer token) and a request size limit, as
plain ASGI middleware."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from claudeserver.redact import MASK

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The dashboard shell and docs load without a token; everything they fetch needs one.
PUBLIC = ("/health", "/docs", "/openapi.json", "/static/")
PUBLIC_EXACT = ("/",)
# EventSource and WebSocket clients cannot set headers, so these alone may carry the token
# as ?access_token= (a query string ends up in logs and browser history).
QUERY_TOKEN_PATHS = re.compile(r"^/api/v1/(?:tasks/[^/]+/)?events$")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Names that reach this machine whatever a DNS server says.
LOOPBACK_NAMES = frozenset({"localhost"})
WILDCARD_BINDS = frozenset({"0.0.0.0", "::"})


async def _reply(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _refuse(
    scope: Scope, send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]]
) -> None:
    if scope["type"] == "websocket":
        # Closed before it is accepted: the client gets an HTTP 403.
        reason = detail.encode()[:120].decode(errors="ignore")  # a close frame holds 123 bytes
        await send({"type": "websocket.close", "code": 4000 + status, "reason": reason})
    else:
        await _reply(send, status, detail, headers)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def host_name(host: str) -> str:
    """The name in a Host header or netloc: `LocalHost:8000` -> `localhost`, `[::1]:80` -> `::1`."""
    host = host.strip().lower()
    if host.startswith("["):
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def is_loopback(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return name in LOOPBACK_NAMES


class SameOrigin:
    """Refuses requests that name a Host this server does not answer to, and state-changing
    requests and WebSockets sent from another site's pages.

    A page on another site reaches a loopback server two ways: through a name of its own
    that it makes resolve to 127.0.0.1 (DNS rebinding: the browser then sends that name as
    Host), or by posting to the server directly (a form, a WebSocket: the browser then sends
    the page's Origin). Clients that are not browsers send no Origin and pass.
    """

    def __init__(self, app: ASGIApp, *, public_hosts: list[str], bind: str) -> None:
        self.app = app
        # Names a proxy in front may use, which then also appear in the browser's Origin.
        self.public = frozenset(host_name(h) for h in public_hosts)
        self.hosts = self.public | ({host_name(bind)} if bind not in WILDCARD_BINDS else set())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        problem = self._problem(scope)
        if problem is None:
            await self.app(scope, receive, send)
        else:
            await _refuse(scope, send, 403, problem, [])

    def _problem(self, scope: Scope) -> str | None:
        host = _header(scope, b"host")
        if host is None:
            return "a Host header is required"
        name = host_name(host)
        if not (is_loopback(name) or name in self.hosts):
            return (
                f"Host {host!r} is not a name this server answers to; if clients reach it by "
                "this name, add it to ALLOWED_HOSTS"
            )
        origin = _header(scope, b"origin")
        changes = scope["type"] == "websocket" or scope.get("method") in STATE_CHANGING
        if origin is not None and changes and not self._own(origin, host):
            return (
                f"Origin {origin!r} is not this server: pages of other sites may not change "
                "anything here"
            )
        return None

    def _own(self, origin: str, host: str) -> bool:
        try:
            parts = urlsplit(origin)
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False  # also "null", sent by sandboxed frames and local files
        same = parts.netloc.lower() == host.strip().lower()
        return same or host_name(parts.netloc) in self.public


class TokenAuth:
    """Bearer tokens; with none (AUTH=none) the server answers this machine only."""

    def __init__(self, app: ASGIApp, tokens: list[str]) -> None:
        self.app = app
        self.tokens = [t.encode() for t in tokens]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or _public(scope["path"]):
            await self.app(scope, receive, send)
            return
        if not self.tokens:
            if _remote(scope):
                # The bind is checked at start, but `uvicorn --host` can bypass that check.
                detail = (
                    "this server runs without a token (AUTH=none): only this machine may use it"
                )
                await _refuse(scope, send, 403, detail, [])
                return
            await self.app(scope, receive, send)
            return
        if self._authorized(scope):
            await self.app(scope, receive, send)
            return
        await _refuse(
            scope,
            send,
            401,
            "missing or wrong API token: send 'Authorization: Bearer <token>'",
            [(b"www-authenticate", b"Bearer")],
        )

    def _authorized(self, scope: Scope) -> bool:
        presented = b""
        for name, value in scope.get("headers", []):
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                presented = value[7:].strip()
        streams = scope["type"] == "websocket" or (
            scope.get("method") == "GET" and QUERY_TOKEN_PATHS.match(scope["path"])
        )
        if not presented and streams:
            query = parse_qs(scope.get("query_string", b"").decode(errors="replace"))
            presented = (query.get("access_token") or [""])[0].encode()
        # Compare against every token so timing does not reveal which one nearly matched.
        results = [hmac.compare_digest(presented, token) for token in self.tokens]
        return bool(presented) and any(results)


def _public(path: str) -> bool:
    return path in PUBLIC_EXACT or any(path.startswith(p) for p in PUBLIC)


def _remote(scope: Scope) -> bool:
    """A client connected from another machine (an in-process or Unix-socket one is not)."""
    client = scope.get("client")
    if not client:
        return False
    try:
        return not ipaddress.ip_address(client[0]).is_loopback
    except ValueError:
        return False


_QUERY_TOKEN = re.compile(r"([?&](?:access_)?token=)[^&\s\"]*")


class _RedactQueryTokens(logging.Filter):
    """uvicorn logs each request's path with its query string, tokens included."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _QUERY_TOKEN.sub(rf"\1{MASK}", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


_REDACT = _RedactQueryTokens()


def redact_server_logs() -> None:
    """Keep `?access_token=` (streams) and `?token=` (the login URL) out of uvicorn's logs."""
    for name in ("uvicorn.access", "uvicorn.error"):  # requests, and WebSocket handshakes
        logging.getLogger(name).addFilter(_REDACT)  # once: filters are kept by identity


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await _reply(send, 413, self._message(), [])
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _reply(send, 413, self._message(), [])

    def _message(self) -> str:
        return f"request body larger than MAX_REQUEST_BYTES={self.max_bytes}"


class _TooLarge(Exception):
    pass
