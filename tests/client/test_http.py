"""The client's HTTP layer without a server: error messages and the SSE parser."""

from __future__ import annotations

import httpx
import pytest

from claudeserver.client.http import Api, ClientError
from claudeserver.client.render import interaction_line
from claudeserver.client.sse import SseEvent, parse


def api_answering(response: httpx.Response, seen: list[httpx.Request]) -> Api:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return response

    api = Api("http://server.test/", "s3cret")
    api.http = httpx.Client(
        base_url=api.base_url, headers=api.http.headers, transport=httpx.MockTransport(handle)
    )
    return api


def test_a_rejected_token_is_one_clear_line_and_exit_3() -> None:
    seen: list[httpx.Request] = []
    api = api_answering(httpx.Response(401, json={"detail": "invalid token"}), seen)
    with pytest.raises(ClientError) as error:
        api.get("/api/v1/tasks")
    assert str(error.value) == "the server rejected the token: set CLAUDESERVER_TOKEN"
    assert error.value.exit_code == 3
    assert seen[0].headers["authorization"] == "Bearer s3cret"


def test_validation_errors_are_joined_into_one_line() -> None:
    body = {"detail": [{"loc": ["body", "max_iterations"], "msg": "too big", "type": "x"}]}
    api = api_answering(httpx.Response(422, json=body), [])
    with pytest.raises(ClientError, match=r"^422: max_iterations: too big$"):
        api.post("/api/v1/tasks", {})


def test_sse_blocks_become_events() -> None:
    lines = ["retry: 1000", "", ": keep-alive", "", "id: 3", "event: status",
             'data: {"a":', "data: 1}", "", "event: done", "data: {}", ""]  # fmt: skip
    assert list(parse(lines)) == [
        SseEvent("3", "status", '{"a":\n1}'),
        SseEvent("3", "done", "{}"),
    ]


def test_agent_text_cannot_drive_the_terminal() -> None:
    item = {"sequence": 4, "role": "assistant", "kind": "text", "content": "hi\x1b[2J\nthere"}
    assert interaction_line(item, 80) == "   4 assistant  hi?[2J there"


def test_a_denial_is_loud_and_names_the_command() -> None:
    item = {
        "sequence": 9, "role": "permission", "kind": "deny", "content": "denied: sudo",
        "data": {"tool": "Bash", "input": {"command": "sudo rm -rf /"}},
    }  # fmt: skip
    assert interaction_line(item, 100) == "   9 DENIED     Bash sudo rm -rf / (denied: sudo)"
