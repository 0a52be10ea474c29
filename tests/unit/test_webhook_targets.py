"""A webhook's host is checked again when the server posts: a name that resolves to a
link-local (cloud metadata) address then is refused, not posted to."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest

from claudeserver.domain import webhooks
from claudeserver.persistence import interactions, sessions, tasks
from claudeserver.persistence.db import make_sessionmaker, open_database


def test_a_name_resolving_to_the_metadata_address_is_not_posted_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory = make_sessionmaker(open_database(f"sqlite:///{tmp_path / 'tasks.db'}"))
    with factory() as db:
        session = sessions.create_session(
            db, project_path=str(tmp_path), isolation="none", base_branch=None,
            webhook_url="http://hooks.example.test/done",
        )  # fmt: skip
        task_id = tasks.create_task(db, session_id=session.id, description="x").id
    asked: list[str] = []

    async def resolve(self: Any, host: str, *_args: Any, **_kw: Any) -> list[Any]:
        asked.append(host)  # this machine's DNS as an attacker could have set it
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 0))]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", resolve)
    delivered = asyncio.run(
        webhooks.deliver(factory, task_id, secret="", attempts=3, base_delay=0, public_url="")
    )

    assert delivered is False and asked == ["hooks.example.test"]
    with factory() as db:
        events = interactions.interactions_after(db, task_id=task_id, after=0, limit=10)
    [refusal] = [e for e in events if e.kind == "webhook"]
    assert "169.254.169.254" in refusal.content and refusal.data["attempt"] == 0


@pytest.mark.parametrize(
    ("host", "forbidden"),
    [("169.254.169.254", True), ("::ffff:169.254.169.254", True), ("fe80::1", True),
     ("metadata.google.internal", True), ("127.0.0.1", False), ("example.com", False)],
)  # fmt: skip
def test_forbidden_hosts(host: str, forbidden: bool) -> None:
    assert webhooks.forbidden_host(host) is forbidden
