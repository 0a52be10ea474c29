"""An async client of the REST API for the MCP tools; a refusal becomes a `ToolError`
carrying the API's own message."""

from __future__ import annotations

from typing import Any

import httpx
from mcp.server.mcpserver.exceptions import ToolError

from claudeserver.client.http import error_detail


class Rest:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def get(self, path: str, **params: Any) -> Any:
        return (await self._send("GET", path, params=present(params))).json()

    async def text(self, path: str, **params: Any) -> str:
        return (await self._send("GET", path, params=present(params))).text

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return (await self._send("POST", path, json=body)).json()

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ToolError(
                f"cannot reach claudeserver at {self.http.base_url}: {exc or type(exc).__name__}"
            ) from None
        if response.is_error:
            raise ToolError(f"{error_detail(response)} (HTTP {response.status_code})")
        return response


def present(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}
