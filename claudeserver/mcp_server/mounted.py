"""MCP over streamable HTTP at `/mcp`, inside the API's own app.

The route sits behind the app's Host/Origin and token middleware; each tool call then
reaches the API in-process with the caller's own Authorization header, so the REST
routes check it as they check any request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
from fastapi import FastAPI
from mcp.server.mcpserver import Context
from mcp.server.transport_security import TransportSecuritySettings

from claudeserver.mcp_server import tools
from claudeserver.mcp_server.rest import Rest

PATH = "/mcp"
# In-process calls never leave the process; this only names a host the API answers to.
INTERNAL_URL = "http://127.0.0.1"


def mount(app: FastAPI) -> AbstractAsyncContextManager[None]:
    """Adds the `/mcp` route; the returned context manager must run in the app's lifespan."""

    @asynccontextmanager
    async def connect(ctx: Context) -> AsyncIterator[Rest]:
        authorization = (ctx.headers or {}).get("authorization")
        headers = {"Authorization": authorization} if authorization else {}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url=INTERNAL_URL, headers=headers, timeout=None
        ) as http:
            yield Rest(http)

    server = tools.build(connect)
    mcp_app = server.streamable_http_app(
        streamable_http_path=PATH,
        stateless_http=True,
        # The app's SameOrigin middleware already checks Host and Origin, with the
        # server's own ALLOWED_HOSTS.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    app.router.routes.extend(mcp_app.routes)
    return server.session_manager.run()
