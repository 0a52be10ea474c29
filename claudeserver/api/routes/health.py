from __future__ import annotations

from fastapi import APIRouter

from claudeserver.agent.locate import cli_status
from claudeserver.api.deps import SessionDep, SettingsDep
from claudeserver.api.schemas import HealthOut
from claudeserver.domain import credentials, sandbox
from claudeserver.persistence.db import database_status

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
def health(db: SessionDep, settings: SettingsDep) -> HealthOut:
    database = database_status(db, settings.database_url)
    cli = cli_status(settings.claude_cli_command)
    box = sandbox.describe(settings.sandbox)
    # Tasks fail while the sandbox cannot run, unless the operator turned it off.
    box_ok = settings.sandbox == "off" or box.startswith("ok")
    creds = credentials.status(db, cli_command=settings.claude_cli_command)
    ok = database == "ok" and cli.startswith("ok") and box_ok and creds.startswith("ok")
    return HealthOut(
        status="ok" if ok else "degraded", database=database, cli=cli, sandbox=box,
        credentials=creds,
    )  # fmt: skip
