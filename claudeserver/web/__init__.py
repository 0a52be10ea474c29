"""The browser dashboard: one static page plus its scripts and stylesheet.

Wire it with `app.include_router(web.router)`. It reads everything through the
public /api/v1 endpoints, so it needs no server state of its own; the pages are
not secret, the API calls they make carry the user's token.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

STATIC = Path(__file__).parent / "static"
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}

# The page loads nothing but its own files and talks only to its own server, so a
# strict policy costs nothing and stops injected markup from running anything.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


@router.get("/")
def dashboard() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=HEADERS)


@router.get("/static/{name}")
def asset(name: str) -> FileResponse:
    path = STATIC / name
    media_type = MEDIA_TYPES.get(path.suffix)
    # Only plain file names of known kinds: no "..", no subdirectories.
    if media_type is None or "/" in name or name.startswith(".") or not path.is_file():
        raise HTTPException(404, "no such asset")
    return FileResponse(path, media_type=media_type, headers=HEADERS)
