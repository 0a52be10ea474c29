"""Spend limits: a budget per task attempt, and a cap on what all tasks spend per UTC day.

The daily cap holds tasks back from starting; a task already running finishes within its
own budget. Spend is added up as each agent turn reports its cost (persistence.daily_spend).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session as DB

from claudeserver.persistence import daily_spend, tasks
from claudeserver.persistence.models import Task


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def day_of(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d")


def seconds_to_next_day(moment: datetime) -> float:
    """Until the next 00:00 UTC, when the daily cap starts afresh."""
    now = moment.astimezone(timezone.utc)
    midnight = datetime(now.year, now.month, now.day, tzinfo=timezone.utc) + timedelta(days=1)
    return (midnight - now).total_seconds()


def task_budget(*, task: float | None, session: float | None, default: float) -> tuple[float, str]:
    """The attempt's budget in USD and the setting it comes from."""
    if task is not None:
        return task, "the task's max_budget_usd"
    if session is not None:
        return session, "the session's max_budget_usd"
    return default, "MAX_BUDGET_USD"


def spend(db: DB, cost_usd: float) -> None:
    if cost_usd > 0:
        daily_spend.add_spend(db, day=day_of(utc_now()), cost_usd=cost_usd)


def daily_hold(db: DB, cap: float | None) -> str | None:
    """Why no task may start now (today's spend reached DAILY_BUDGET_USD), or None."""
    if cap is None or daily_spend.spent_on(db, day=day_of(utc_now())) < cap:
        return None
    return (
        f"Waiting: all tasks together spent DAILY_BUDGET_USD={cap:g} today (UTC); starts after "
        "00:00 UTC, or once the server runs with a higher cap"
    )


def hold(db: DB, waiting: Sequence[Task], reason: str) -> None:
    """Say why on each waiting task, once (every change is an event clients see)."""
    for task in waiting:
        if task.progress != reason:
            tasks.set_progress(db, task_id=task.id, progress=reason)
