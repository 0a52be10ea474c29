"""Status moves are guarded updates: illegal moves and lost races change nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from claudeserver.persistence import interactions, sessions, tasks
from claudeserver.persistence.db import make_engine, make_sessionmaker, migrate
from claudeserver.vocabulary import TaskStatus


def _db(url: str) -> sessionmaker[Session]:
    engine = make_engine(url)
    migrate(engine)
    return make_sessionmaker(engine)


def test_only_legal_moves_happen_and_each_is_an_event(tmp_path: Path, database_url: str) -> None:
    factory = _db(database_url)
    with factory() as db:
        session = sessions.create_session(
            db, project_path=str(tmp_path), isolation="none", base_branch=None
        )
        task = tasks.create_task(db, session_id=session.id, description="d")
        assert not tasks.transition(db, task_id=task.id, to=TaskStatus.COMPLETED)
        assert tasks.transition(db, task_id=task.id, to=TaskStatus.RUNNING)
        assert tasks.transition(db, task_id=task.id, to=TaskStatus.PAUSED)
        assert not tasks.transition(db, task_id=task.id, to=TaskStatus.TESTING)
        assert tasks.transition(db, task_id=task.id, to=TaskStatus.RUNNING)
        assert tasks.transition(db, task_id=task.id, to=TaskStatus.TESTING)
        assert tasks.transition(db, task_id=task.id, to=TaskStatus.COMPLETED)
        assert not tasks.transition(db, task_id=task.id, to=TaskStatus.CANCELLED)
        events = interactions.interactions_after(db, task_id=task.id, after=0, limit=100)
        assert [e.content for e in events] == [
            "pending", "running", "paused", "running", "testing", "completed",
        ]  # fmt: skip
        row = tasks.get_task(db, task_id=task.id)
        assert row is not None and row.started_at and row.completed_at


def test_two_processes_cannot_both_move_a_task(tmp_path: Path, database_url: str) -> None:
    first, second = _db(database_url), _db(database_url)  # separate engines, like two processes
    with first() as db:
        session = sessions.create_session(
            db, project_path=str(tmp_path), isolation="none", base_branch=None
        )
        task_id = tasks.create_task(db, session_id=session.id, description="d").id
    with first() as a, second() as b:
        won_a = tasks.transition(a, task_id=task_id, to=TaskStatus.RUNNING)
        won_b = tasks.transition(b, task_id=task_id, to=TaskStatus.RUNNING)
    assert (won_a, won_b) == (True, False)


def test_retry_only_from_failed_or_cancelled(tmp_path: Path, database_url: str) -> None:
    factory = _db(database_url)
    finished = frozenset({TaskStatus.FAILED, TaskStatus.CANCELLED})
    with factory() as db:
        session = sessions.create_session(
            db, project_path=str(tmp_path), isolation="none", base_branch=None
        )
        task = tasks.create_task(db, session_id=session.id, description="d")
        tasks.transition(db, task_id=task.id, to=TaskStatus.RUNNING)
        assert not tasks.transition(db, task_id=task.id, to=TaskStatus.PENDING, only_from=finished)
        tasks.transition(db, task_id=task.id, to=TaskStatus.FAILED)
        assert tasks.transition(db, task_id=task.id, to=TaskStatus.PENDING, only_from=finished)


def test_a_retry_that_wins_the_race_keeps_the_task_from_deletion(
    tmp_path: Path, database_url: str
) -> None:
    deleter, retrier = _db(database_url), _db(database_url)
    with deleter() as db:
        session = sessions.create_session(
            db, project_path=str(tmp_path), isolation="none", base_branch=None
        )
        session_id = session.id
        task_id = tasks.create_task(db, session_id=session_id, description="d").id
        tasks.transition(db, task_id=task_id, to=TaskStatus.CANCELLED)
    # The deleter saw "cancelled"; the retry lands before its delete does.
    with retrier() as db:
        assert tasks.transition(db, task_id=task_id, to=TaskStatus.PENDING)
    with deleter() as db:
        assert not tasks.delete_task(db, task_id=task_id)
        assert tasks.status_of(db, task_id=task_id)[0] == "pending"
        assert interactions.count_interactions(db, task_id=task_id) == 3  # its history is intact
        assert not sessions.delete_session(db, session_id=session_id)  # it still has a task
