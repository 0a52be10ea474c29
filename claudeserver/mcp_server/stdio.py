"""`claudeserver mcp`: MCP over stdio, a bridge to a running server's REST API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from mcp.server.mcpserver import Context

from claudeserver.mcp_server import tools
from claudeserver.mcp_server.rest import Rest


def run(server_url: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    @asynccontextmanager
    async def connect(_: Context) -> AsyncIterator[Rest]:
        async with httpx.AsyncClient(
            base_url=server_url.rstrip("/"), headers=headers, timeout=30
        ) as http:
            yield Rest(http)

    tools.build(connect).run("stdio")
    return 0
