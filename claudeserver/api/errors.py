"""The error answers every route may give, documented in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from starlette.routing import Match

from claudeserver.persistence.storage import is_storage_full, storage_advice


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


async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """A full disk or an unreachable database: say so and what to do, not a bare 500.

    Nothing was stored, so the client knows to send the request again later.
    """
    assert isinstance(exc, OperationalError)
    if is_storage_full(exc):
        url = request.app.state.settings.database_url
        advice = storage_advice(exc, url, then="send the request again")
        return JSONResponse({"detail": f"Nothing was stored. {advice}"}, status_code=507)
    return JSONResponse(
        {
            "detail": f"The database is unavailable ({type(exc.orig).__name__}); nothing was "
            "stored. Check DATABASE_URL and that the database server runs, then try again"
        },
        status_code=503,
        headers={"Retry-After": "5"},
    )


async def validation_failed(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422, able to echo input that is not valid Unicode (a lone surrogate)."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": _escaped(jsonable_encoder(exc.errors()))}, status_code=422)


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode()
    if isinstance(value, dict):
        return {_escaped(k): _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return value


def invalid(location: str, field: str, message: str) -> RequestValidationError:
    """A 422 shaped like FastAPI's own, naming the field, for checks pydantic cannot make."""
    return RequestValidationError(
        [{"loc": (location, field), "msg": message, "type": "value_error"}]
    )


async def not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def not_now(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=409)


async def gone(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=410)
