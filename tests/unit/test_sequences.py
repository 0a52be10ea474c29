"""Interaction sequence numbers stay unique and gapless with concurrent writers: the
task's runner and an API process adding a person's message at the same moment."""

from __future__ import annotations

import threading

from sqlalchemy import select

from claudeserver.persistence import interactions, sessions, tasks
from claudeserver.persistence.db import make_sessionmaker, open_database
from claudeserver.persistence.models import ClaudeInteraction
from claudeserver.vocabulary import Kind, Role

WRITERS = 4
EACH = 40


def test_concurrent_writers_never_take_the_same_sequence(database_url: str) -> None:
    engine = open_database(database_url)
    factory = make_sessionmaker(engine)
    with factory() as db:
        session = sessions.create_session(
            db, project_path="/tmp/x", isolation="none", base_branch=None
        )
        task_id = tasks.create_task(db, session_id=session.id, description="race").id
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def write(writer: int) -> None:
        start.wait()
        try:
            for n in range(EACH):
                with factory() as db:
                    interactions.add_interaction(
                        db, task_id=task_id, role=Role.USER, kind=Kind.MESSAGE,
                        content=f"{writer}-{n}",
                    )  # fmt: skip
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with factory() as db:
        sequences = db.scalars(
            select(ClaudeInteraction.sequence).where(ClaudeInteraction.task_id == task_id)
        ).all()
    assert sorted(sequences) == list(range(1, WRITERS * EACH + 2))  # + the creation event
    engine.dispose()
