"""Tells a URL when a task ends, or waits for a person's approval: a signed POST in the
webhook's format (json or slack), retried with backoff, each try recorded on the task."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import uuid
from typing import Any

import httpx
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

from claudeserver.domain.judging import test_summary
from claudeserver.domain.webhook_formats import render, task_link
from claudeserver.persistence import approvals as approval_store
from claudeserver.persistence import interactions, tasks, testcases
from claudeserver.vocabulary import Kind, Role

SIGNATURE_HEADER = "X-Claudeserver-Signature"
TIMEOUT_SECONDS = 10.0


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def target(db: DB, task_id: str) -> tuple[str | None, str]:
    """The task's webhook URL and format: its own, else its session's."""
    task = tasks.get_task(db, task_id=task_id)
    if task is None:
        return None, "json"
    return (
        task.webhook_url or task.session.webhook_url,
        task.webhook_format or task.session.webhook_format,
    )


def status_payload(db: DB, task_id: str) -> dict[str, Any]:
    """The task's status JSON ({} when there is no such task)."""
    task = tasks.get_task(db, task_id=task_id)
    if task is None:
        return {}
    return {
        "id": task.id,
        "session_id": task.session_id,
        "description": task.description,
        "status": task.status,
        "summary": task.summary,
        "progress": task.progress,
        "error": task.error,
        "test_summary": test_summary(testcases.test_outcomes(db, task_ids=[task.id])[task.id]),
        "cost_usd": task.cost_usd,
        "attempt": task.attempt,
        "completed_at": task.completed_at.isoformat() if task.completed_at else None,
    }


def approval_payload(db: DB, approval_id: str) -> dict[str, Any]:
    """An `approval_waiting` event: a call held for a person's answer (POST
    /api/v1/approvals/{approval_id}); {} when there is no such approval or task."""
    approval = approval_store.get(db, approval_id=approval_id)
    task = tasks.get_task(db, task_id=approval.task_id) if approval else None
    if approval is None or task is None:
        return {}
    return {
        "event": "approval_waiting",
        "approval_id": approval.id,
        "task_id": approval.task_id,
        "session_id": approval.session_id,
        "tool": approval.tool,
        "input": approval.input_summary,
        "summary": approval.question,
        "category": approval.category,
        "description": task.description,
        "created_at": approval.created_at.isoformat(),
    }


# Cloud metadata services that are not link-local addresses: a webhook must not make the
# server post to them (or to anything link-local, where the others live).
METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS over IPv6
    }
)


def forbidden_host(host: str) -> bool:
    """A link-local address (169.254.169.254 and the like) or a cloud metadata name."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host in METADATA_HOSTS
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return host in METADATA_HOSTS or address.is_link_local


async def _resolves_to_forbidden(url: str) -> str | None:
    """The forbidden address a webhook's host name resolves to now, if any: a name that was
    harmless when the session was made may point at the metadata service since."""
    host = httpx.URL(url).host
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    except OSError:
        return None  # unresolvable: the POST itself fails and says so
    addresses = {str(info[4][0]) for info in infos}
    return next((a for a in sorted(addresses) if forbidden_host(a)), None)


async def deliver(
    db: sessionmaker[DB],
    task_id: str,
    *,
    secret: str,
    attempts: int,
    base_delay: float,
    public_url: str,
    approval_id: str | None = None,
) -> bool:
    """Tell the task's webhook that it ended (event "task.<status>"), or with `approval_id`
    that this approval waits (event "approval.waiting"); True when delivered."""
    with db() as s:
        if approval_id is None:
            body = status_payload(s, task_id)
            event = f"task.{body.get('status')}"
        else:
            body, event = approval_payload(s, approval_id), "approval.waiting"
    if not body:
        return False
    return await announce(
        db, task_id, event=event, payload=body, secret=secret, attempts=attempts,
        base_delay=base_delay, public_url=public_url,
    )  # fmt: skip


async def announce(
    db: sessionmaker[DB],
    task_id: str,
    *,
    event: str,
    payload: dict[str, Any],
    secret: str,
    attempts: int,
    base_delay: float,
    public_url: str,
) -> bool:
    """POST `event` of a task to its webhook, in the webhook's format, until a 2xx answer or
    `attempts` tries; True when delivered. `public_url` is the dashboard's, for the link."""
    with db() as s:
        url, fmt = target(s, task_id)
    if url is None:
        return False
    forbidden = await _resolves_to_forbidden(url)
    if forbidden is not None:
        outcome = f"refused: the host resolves to {forbidden}, a link-local or metadata address"
        with db() as s:
            interactions.add_interaction(
                s, task_id=task_id, role=Role.SYSTEM, kind=Kind.WEBHOOK,
                content=f"webhook failed: {outcome}",
                data={"url": url, "attempt": 0, "delivered": False, "outcome": outcome},
            )  # fmt: skip
        return False
    body = render(fmt, event, payload, link=task_link(public_url, task_id))
    raw = json.dumps(body, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Claudeserver-Event": event,
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
                if tasks.status_of(s, task_id=task_id)[0] is None:
                    return ok  # the task was deleted meanwhile: no record, no more tries
                interactions.add_interaction(
                    s,
                    task_id=task_id,
                    role=Role.SYSTEM,
                    kind=Kind.WEBHOOK,
                    content=f"webhook {'delivered' if ok else 'failed'}: {outcome}",
                    data={
                        "url": url, "event": event, "format": fmt, "attempt": attempt,
                        "delivered": ok, "outcome": outcome,
                    },
                )  # fmt: skip
            if ok:
                return True
            if attempt < attempts:
                await asyncio.sleep(base_delay * 2 ** (attempt - 1))
    return False
