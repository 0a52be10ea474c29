"""GET /metrics in Prometheus' text format: the tasks in the database (by status, spend,
tokens) and this process's own figures (memory, CPU, open files).

prometheus_client is imported with the first scrape: start-up stays as quick as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Response

from claudeserver.api.deps import SessionDep, SettingsDep
from claudeserver.persistence import sessions, tasks
from claudeserver.vocabulary import TaskStatus

router = APIRouter(tags=["health"])


class _Families:
    """What generate_latest() reads: anything with collect()."""

    def __init__(self, families: Iterable[Any]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Any]:
        return self.families


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(db: SessionDep, settings: SettingsDep) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
    from prometheus_client.core import GaugeMetricFamily
    from prometheus_client.platform_collector import PLATFORM_COLLECTOR
    from prometheus_client.process_collector import PROCESS_COLLECTOR

    by_status = tasks.totals_by_status(db)
    counts = GaugeMetricFamily("claudeserver_tasks", "Tasks in the database", labels=["status"])
    for status in TaskStatus:  # every status, zeros included, so alerts can rely on them
        counts.add_metric([status.value], by_status.get(status.value, (0, 0.0, 0, 0))[0])
    figures = list(by_status.values())
    cost = GaugeMetricFamily(
        "claudeserver_cost_usd", "Spent by the tasks in the database, in USD",
        value=sum(f[1] for f in figures),
    )  # fmt: skip
    tokens = GaugeMetricFamily(
        "claudeserver_tokens", "Tokens used by the tasks in the database", labels=["direction"]
    )
    tokens.add_metric(["input"], sum(f[2] for f in figures))
    tokens.add_metric(["output"], sum(f[3] for f in figures))
    session_count = GaugeMetricFamily(
        "claudeserver_sessions", "Sessions in the database", value=sessions.count_sessions(db)
    )
    slots = GaugeMetricFamily(
        "claudeserver_max_concurrent_tasks", "MAX_CONCURRENT_TASKS of this server",
        value=settings.max_concurrent_tasks,
    )  # fmt: skip
    process = [*PROCESS_COLLECTOR.collect(), *PLATFORM_COLLECTOR.collect()]
    body = generate_latest(_Families([counts, cost, tokens, session_count, slots, *process]))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
