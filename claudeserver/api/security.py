"""Bearer-token authentication and a request size limit, as plain ASGI middleware."""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The dashboard shell and docs load without a token; everything they fetch needs one.
PUBLIC = ("/health", "/docs", "/openapi.json", "/static/")
PUBLIC_EXACT = ("/",)


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


class TokenAuth:
    def __init__(self, app: ASGIApp, tokens: list[str]) -> None:
        self.app = app
        self.tokens = [t.encode() for t in tokens]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.tokens or _public(scope["path"]):
            await self.app(scope, receive, send)
            return
        if self._authorized(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4401, "reason": "unauthorized"})
            return
        await _reply(
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
        if not presented and scope.get("method", "GET") == "GET":
            # EventSource and WebSocket clients cannot set headers.
            query = parse_qs(scope.get("query_string", b"").decode(errors="replace"))
            presented = (query.get("access_token") or [""])[0].encode()
        # Compare against every token so timing does not reveal which one nearly matched.
        results = [hmac.compare_digest(presented, token) for token in self.tokens]
        return bool(presented) and any(results)


def _public(path: str) -> bool:
    return path in PUBLIC_EXACT or any(path.startswith(p) for p in PUBLIC)


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
