"""`uvicorn claudeserver.main:app`: the app is built on first access, not at import."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "app":
        from claudeserver.api.app import create_app

        app = create_app()
        globals()["app"] = app
        return app
    raise AttributeError(name)
