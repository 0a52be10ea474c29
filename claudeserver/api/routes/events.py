from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Header, Query, Request, WebSocket
from fastapi.responses import StreamingResponse
from starlette.websockets import WebSocketDisconnect, WebSocketState

from claudeserver.api.errors import invalid, responses
from claudeserver.api.event_stream import Event, all_events, task_events
from claudeserver.domain import lifecycle
from claudeserver.persistence import tasks

router = APIRouter(prefix="/api/v1", tags=["events"], responses=responses(401, 404))

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _cursor(after: int | None, last_event_id: str | None) -> int:
    if last_event_id is not None:
        try:
            return max(int(last_event_id), 0)
        except ValueError:
            raise invalid("header", "last-event-id", "must be an integer event id") from None
    return after or 0


def _require_task(request: Request, task_id: str) -> None:
    with request.app.state.sessionmaker() as s:
        lifecycle.get(s, task_id)


async def _sse(events: AsyncIterator[Event]) -> AsyncIterator[str]:
    yield "retry: 1000\n\n"
    async for event in events:
        yield event.sse()


@router.get("/tasks/{task_id}/events")
async def task_event_stream(
    task_id: str,
    request: Request,
    after: int | None = Query(None, ge=0, description="replay events after this id"),
    follow: bool = Query(
        False, description="keep streaming after `done`: comments, retries, follow-ups"
    ),
    last_event_id: str | None = Header(None),
) -> StreamingResponse:
    _require_task(request, task_id)
    events = task_events(
        request.app.state.sessionmaker,
        request.app.state.notifier,
        task_id=task_id,
        after=_cursor(after, last_event_id),
        disconnected=request.is_disconnected,
        follow=follow,
    )
    return StreamingResponse(_sse(events), media_type="text/event-stream", headers=SSE_HEADERS)


@router.get("/events")
async def event_stream(
    request: Request,
    after: int | None = Query(None, ge=0),
    session_id: str | None = Query(None, max_length=64),
    last_event_id: str | None = Header(None),
) -> StreamingResponse:
    events = all_events(
        request.app.state.sessionmaker,
        request.app.state.notifier,
        after=_cursor(after, last_event_id),
        session_id=session_id,
        disconnected=request.is_disconnected,
    )
    return StreamingResponse(_sse(events), media_type="text/event-stream", headers=SSE_HEADERS)


@router.websocket("/tasks/{task_id}/ws")
async def task_websocket(websocket: WebSocket, task_id: str, after: int = 0) -> None:
    with websocket.app.state.sessionmaker() as s:
        exists = tasks.get_task(s, task_id=task_id) is not None
    await websocket.accept()
    if not exists:
        await websocket.close(code=4404, reason=f"task {task_id} not found")
        return

    async def disconnected() -> bool:
        return websocket.client_state is not WebSocketState.CONNECTED

    events = task_events(
        websocket.app.state.sessionmaker,
        websocket.app.state.notifier,
        task_id=task_id,
        after=max(after, 0),
        disconnected=disconnected,
    )
    try:
        async for event in events:
            await websocket.send_json({"id": event.id, "event": event.type, "data": event.data})
        await websocket.close()
    except WebSocketDisconnect:
        pass
