"""Who commits: each data function commits on its own, unless it runs inside a
`unit_of_work`; then the unit's writes commit together when it ends, or none of them."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as DB
from sqlalchemy.orm import sessionmaker

_UNIT = "unit_of_work"


@contextlib.contextmanager
def unit_of_work(factory: sessionmaker[DB]) -> Iterator[DB]:
    """A session whose writes commit together at the end of the block (rolled back if it
    raises). Keep the block short and without awaits: its writes lock the task's row."""
    with factory() as db:
        db.info[_UNIT] = True
        yield db
        del db.info[_UNIT]
        db.commit()


def commit(db: DB) -> None:
    """Commit a data function's writes, or only flush them when a unit of work is open."""
    if db.info.get(_UNIT):
        db.flush()  # the unit of work commits
    else:
        db.commit()


def insert(db: DB, model: type[Any]) -> Any:
    """An INSERT in the database's own dialect, which has ON CONFLICT clauses."""
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def upsert(db: DB, model: type[Any], values: dict[str, Any], update: dict[str, Any]) -> None:
    """INSERT, or UPDATE with `update` when the primary key exists: one atomic statement."""
    keys = [c.name for c in model.__table__.primary_key]
    stmt = insert(db, model).values(**values)
    db.execute(stmt.on_conflict_do_update(index_elements=keys, set_=update))
    commit(db)
