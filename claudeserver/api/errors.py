"""The error answers every route may give, documented in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.routing import Match


class ErrorOut(BaseModel):
    detail: str
    files: list[str] | None = None  # merge conflicts name the conflicting files


_WHY = {
    400: "The request body could not be read (not UTF-8 or not JSON)",
    401: "Missing or wrong API token",
    403: "Not allowed by the server's configuration",
    404: "No such session or task",
    409: "Not possible in the task's current state",
    410: "Gone: the task's workspace was removed",
    413: "Request body larger than MAX_REQUEST_BYTES",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorOut, "description": _WHY[code]} for code in codes}


async def method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    """405 with an Allow header naming every method of the path, not just one route's."""
    allowed: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is Match.PARTIAL:
            allowed |= set(getattr(route, "methods", None) or ())
    return JSONResponse(
        {"detail": f"{request.method} is not allowed here; use {', '.join(sorted(allowed))}"},
        status_code=405,
        headers={"Allow": ", ".join(sorted(allowed))},
    )


def invalid(location: str, field: str, message: str) -> RequestValidationError:
    """A 422 shaped like FastAPI's own, naming the field, for checks pydantic cannot make."""
    return RequestValidationError(
        [{"loc": (location, field), "msg": message, "type": "value_error"}]
    )
