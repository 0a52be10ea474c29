"""Credentials the model API refused, keyed by a digest of them: health and new tasks say so
until the credentials change or a task finishes with them."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session as DB

from claudeserver.persistence.models import CredentialRejection, utcnow
from claudeserver.persistence.transactions import commit, upsert


def record_credential_rejection(db: DB, *, fingerprint: str, task_id: str, message: str) -> None:
    values = {"task_id": task_id, "message": message, "created_at": utcnow()}
    upsert(db, CredentialRejection, {"fingerprint": fingerprint, **values}, values)


def credential_rejection(db: DB, *, fingerprint: str) -> CredentialRejection | None:
    return db.get(CredentialRejection, fingerprint)


def clear_credential_rejection(db: DB, *, fingerprint: str) -> None:
    db.execute(delete(CredentialRejection).where(CredentialRejection.fingerprint == fingerprint))
    commit(db)
