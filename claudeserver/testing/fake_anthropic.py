"""A loopback HTTP server that plays the Anthropic Messages API (streaming SSE).

Each request is handed to a "model" callable that returns what to answer; the server
turns it into the `message_start … message_stop` event stream the CLI expects.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from claudeserver.testing.request import ModelRequest
from claudeserver.testing.script import ApiError, Reply, Stall, Text, ToolUse

Model = Callable[[ModelRequest], "Reply | ApiError | Stall"]


@dataclass
class FakeAnthropic:
    """`with FakeAnthropic(model) as fake:` serves on 127.0.0.1 until the block ends."""

    model: Model
    requests: list[ModelRequest] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        assert self._server is not None, "FakeAnthropic is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def env(self) -> dict[str, str]:
        """Environment that points the Claude Code CLI at this server."""
        return {
            "ANTHROPIC_BASE_URL": self.url,
            "ANTHROPIC_API_KEY": "sk-ant-fake-key-for-tests",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "CLAUDE_CODE_MAX_RETRIES": "0",
            "DISABLE_AUTOUPDATER": "1",
        }

    def agent_requests(self) -> list[ModelRequest]:
        return [r for r in self.requests if r.is_main_loop]

    def start(self) -> FakeAnthropic:
        self._stop.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()  # releases stalled responses
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _handler_for(fake: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            body = json.loads(raw or b"{}")
            if "count_tokens" in self.path:
                self._json(200, {"input_tokens": 100})
                return
            request = ModelRequest(path=self.path, body=body)
            fake.requests.append(request)
            answer = fake.model(request) if request.is_main_loop else Reply([Text("ok")])
            while isinstance(answer, Stall):
                if fake._stop.wait(answer.seconds):
                    return
                answer = answer.then
            if isinstance(answer, ApiError):
                self._json(answer.status, answer.body())
                return
            self._stream(body.get("model", "claude-fake"), answer)

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, model: str, reply: Reply) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("connection", "close")
            self.end_headers()
            self.close_connection = True
            for event in _events(model, reply):
                self.wfile.write(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
                if reply.chunk_delay:
                    time.sleep(reply.chunk_delay)

    return Handler


def _events(model: str, reply: Reply) -> Iterator[dict[str, Any]]:
    usage = {"input_tokens": reply.input_tokens, "output_tokens": 1}
    yield {
        "type": "message_start",
        "message": {
            "id": f"msg_{uuid.uuid4().hex}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        },
    }
    for index, block in enumerate(reply.blocks):
        start: dict[str, Any]
        delta: dict[str, Any]
        if isinstance(block, ToolUse):
            start = {"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:24]}", "name": block.name}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block.input)}
            start["input"] = {}
        else:
            start = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block.text}
        yield {"type": "content_block_start", "index": index, "content_block": start}
        yield {"type": "content_block_delta", "index": index, "delta": delta}
        yield {"type": "content_block_stop", "index": index}
    stop = "tool_use" if any(isinstance(b, ToolUse) for b in reply.blocks) else "end_turn"
    yield {
        "type": "message_delta",
        "delta": {"stop_reason": stop, "stop_sequence": None},
        "usage": {"output_tokens": reply.output_tokens},
    }
    yield {"type": "message_stop"}
