"""The HTTP side of the CLI: one httpx client, errors turned into one-line messages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import httpx

from claudeserver.client.sse import SseEvent, parse

# Exit status for "the server can't be used at all" (down, or refusing our token).
UNUSABLE = 3
RECONNECTS = 5


class ClientError(Exception):
    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Api:
    def __init__(self, base_url: str, token: str | None, *, timeout: float = 30) -> None:
        self.base_url = base_url.rstrip("/")
        self.has_token = bool(token)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def __enter__(self) -> Api:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.http.close()

    def get(self, path: str, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v is not None}
        return self._send("GET", path, params=query)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._send("POST", path, json=body)

    def delete(self, path: str, **params: Any) -> None:
        self._send("DELETE", path, params=params)

    def task_events(self, task_id: str, *, after: int = 0) -> Iterator[SseEvent]:
        """A task's events from `after` on, until `done`; reconnects where a stream broke off."""
        failures = 0
        while True:
            try:
                with self.http.stream(
                    "GET",
                    f"/api/v1/tasks/{task_id}/events",
                    params={"after": after},
                    # The stream is silent while the agent thinks: no read timeout.
                    timeout=httpx.Timeout(self.http.timeout.connect, read=None),
                ) as response:
                    if response.is_error:
                        response.read()
                        self._raise_for(response)
                    for event in parse(response.iter_lines()):
                        failures = 0
                        if event.id is not None and event.id.isdigit():
                            after = int(event.id)
                        yield event
                        if event.event == "done":
                            return
            except httpx.TransportError as exc:
                if failures >= RECONNECTS:
                    raise self._unreachable(exc) from None
            failures += 1
            time.sleep(min(failures, 5) * 0.5)

    def _send(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        if response.is_error:
            self._raise_for(response)
        return response.json() if response.content else None  # 204 has no body

    def _unreachable(self, exc: httpx.TransportError) -> ClientError:
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            message = (
                f"cannot reach claudeserver at {self.base_url}: is it running? "
                "start it with `claudeserver serve`"
            )
        else:
            message = f"lost the connection to claudeserver at {self.base_url}: {exc}"
        return ClientError(message, UNUSABLE)

    def _raise_for(self, response: httpx.Response) -> None:
        if response.status_code == 401 and self.has_token:
            raise ClientError("the server rejected the token: set CLAUDESERVER_TOKEN", UNUSABLE)
        if response.status_code == 401:
            raise ClientError(
                "the server needs a token: set CLAUDESERVER_TOKEN (a server on this machine "
                "keeps it in its TOKEN_FILE, ~/.claudeserver/token by default)",
                UNUSABLE,
            )
        raise ClientError(f"{response.status_code}: {error_detail(response)}")


def error_detail(response: httpx.Response) -> str:
    """FastAPI's `{"detail": "..."}` or its 422 list, as one line."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "detail" not in body:
        return response.text.strip()[:300] or response.reason_phrase
    detail = body["detail"]
    if isinstance(detail, list):
        parts = []
        for item in detail:
            where = ".".join(str(p) for p in item.get("loc", ())[1:])
            parts.append(f"{where}: {item.get('msg')}" if where else str(item.get("msg")))
        return "; ".join(parts)
    return str(detail)
