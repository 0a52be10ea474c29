"""What all tasks together spent per UTC day, added to from any number of processes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session as DB

from claudeserver.persistence.models import DailySpend
from claudeserver.persistence.transactions import upsert


def add_spend(db: DB, *, day: str, cost_usd: float) -> None:
    """Add to what all tasks spent on `day` (YYYY-MM-DD, UTC); safe from many processes."""
    upsert(
        db,
        DailySpend,
        {"day": day, "cost_usd": cost_usd},
        {"cost_usd": DailySpend.cost_usd + cost_usd},
    )


def spent_on(db: DB, *, day: str) -> float:
    return float(db.scalar(select(DailySpend.cost_usd).where(DailySpend.day == day)) or 0.0)
