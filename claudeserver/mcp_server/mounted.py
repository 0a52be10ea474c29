"""MCP over streamable HTTP at `/mcp`, inside the API's own app.

The route sits behind the app's Host/Origin and token middleware; each tool call then
reaches the API in-process with the caller's own Authorization header, so the REST
routes check it as they check any request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from fastapi import FastAPI
from mcp.server.mcpserver import Context
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from claudeserver.mcp_server import tools
from claudeserver.mcp_server.rest import Rest

PATH = "/mcp"
# In-process calls never leave the process; this only names a host the API answers to.
INTERNAL_URL = "http://127.0.0.1"


def mount(app: FastAPI) -> Callable[[], AbstractAsyncContextManager[None]]:
    """Adds the `/mcp` route; the returned factory's context must run in the app's lifespan.

    The SDK's session manager can be started only once, and an app's lifespan may run more
    than once (a test client per test): each lifespan builds the MCP server afresh, and the
    route hands requests to the current one.
    """

    @asynccontextmanager
    async def connect(ctx: Context) -> AsyncIterator[Rest]:
        authorization = (ctx.headers or {}).get("authorization")
        headers = {"Authorization": authorization} if authorization else {}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url=INTERNAL_URL, headers=headers, timeout=None
        ) as http:
            yield Rest(http)

    @asynccontextmanager
    async def serving() -> AsyncIterator[None]:
        server = tools.build(connect)
        app.state.mcp_app = server.streamable_http_app(
            streamable_http_path=PATH,
            stateless_http=True,
            # The app's SameOrigin middleware already checks Host and Origin, with the
            # server's own ALLOWED_HOSTS.
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        async with server.session_manager.run():
            yield

    app.router.routes.append(Route(PATH, _Current(app), methods=["GET", "POST", "DELETE"]))
    return serving


class _Current:
    """The ASGI endpoint at /mcp: the MCP app of the lifespan that is running."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app.state.mcp_app(scope, receive, send)
