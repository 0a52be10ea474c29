"""`claudeserver worker`: a process that only runs queued tasks, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence

from claudeserver.domain.executors.jobs import Runtime
from claudeserver.domain.executors.queue import make_app
from claudeserver.domain.executors.schema import ensure_schema
from claudeserver.domain.executors.workers import QueueWorkers
from claudeserver.persistence.db import make_sessionmaker, open_database
from claudeserver.settings import Settings

log = logging.getLogger(__name__)


async def run_workers(settings: Settings, *, concurrency: int, queues: Sequence[str]) -> None:
    # Any process may be the first on a new database, or the first after an upgrade.
    engine = open_database(settings.database_url)
    try:
        ensure_schema(engine)
        app = make_app(settings)
        async with app.open_async():
            runtime = Runtime(settings, make_sessionmaker(engine))
            workers = QueueWorkers(app, runtime, concurrency=concurrency, queues=queues)
            workers.start()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            log.info("worker: %d task slot(s) on queues %s", concurrency, ", ".join(queues))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait(
                [stopping, asyncio.create_task(workers.wait())],
                return_when=asyncio.FIRST_COMPLETED,
            )
            stopping.cancel()
            await workers.stop()
            for run in workers.runs:
                if run.done() and not run.cancelled() and run.exception() is not None:
                    raise RuntimeError("a queue worker failed") from run.exception()
    finally:
        engine.dispose()


def main(settings: Settings, *, concurrency: int, queues: Sequence[str]) -> int:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_workers(settings, concurrency=concurrency, queues=queues))
    return 0
