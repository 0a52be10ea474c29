"""Tells a URL when a task ends: a signed POST, retried with backoff, each try recorded."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.domain.judging import test_summary
from claudeserver.persistence import repository as repo
from claudeserver.vocabulary import Kind, Role

SIGNATURE_HEADER = "X-Claudeserver-Signature"
TIMEOUT_SECONDS = 10.0


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(db: DB, task_id: str) -> tuple[str | None, dict[str, Any]]:
    """The webhook URL (task's, else session's) and the task's status JSON."""
    task = repo.get_task(db, task_id=task_id)
    if task is None:
        return None, {}
    body = {
        "id": task.id,
        "session_id": task.session_id,
        "status": task.status,
        "summary": task.summary,
        "progress": task.progress,
        "error": task.error,
        "test_summary": test_summary(repo.test_outcomes(db, task_ids=[task.id])[task.id]),
        "cost_usd": task.cost_usd,
        "attempt": task.attempt,
        "completed_at": task.completed_at.isoformat() if task.completed_at else None,
    }
    return task.webhook_url or task.session.webhook_url, body


async def deliver(
    db: sessionmaker[DB],
    task_id: str,
    *,
    secret: str,
    attempts: int,
    base_delay: float,
) -> bool:
    """POST the status until a 2xx answer or `attempts` tries; True when delivered."""
    with db() as s:
        url, body = payload(s, task_id)
    if url is None:
        return False
    raw = json.dumps(body, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Claudeserver-Event": f"task.{body['status']}",
        "X-Claudeserver-Delivery": str(uuid.uuid4()),
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, raw)
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
        for attempt in range(1, attempts + 1):
            try:
                response = await client.post(url, content=raw, headers=headers)
                outcome, ok = f"HTTP {response.status_code}", response.is_success
            except httpx.HTTPError as exc:
                outcome, ok = f"{type(exc).__name__}: {exc}", False
            with db() as s:
                if repo.status_of(s, task_id=task_id)[0] is None:
                    return ok  # the task was deleted meanwhile: no record, no more tries
                repo.add_interaction(
                    s,
                    task_id=task_id,
                    role=Role.SYSTEM,
                    kind=Kind.WEBHOOK,
                    content=f"webhook {'delivered' if ok else 'failed'}: {outcome}",
                    data={"url": url, "attempt": attempt, "delivered": ok, "outcome": outcome},
                )
            if ok:
                return True
            if attempt < attempts:
                await asyncio.sleep(base_delay * 2 ** (attempt - 1))
    return False
