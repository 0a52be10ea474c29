"""A full disk under the database: recognising it, and keeping room to record it.

When the disk fills, the write that fails is usually the one that would have said so. Like
CockroachDB's ballast file, the server keeps a reserve file beside an SQLite database and
deletes it on the first full-disk error, so the task's failure and its advice can still be
stored and the API can still answer. PostgreSQL keeps its own disk: only recognised there.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

RESERVE_BYTES = 8 * 1024 * 1024
SQLITE_FULL = "database or disk is full"
PG_DISK_FULL = "53100"  # SQLSTATE disk_full


def is_storage_full(exc: BaseException) -> bool:
    """True for "no space left" from SQLite, PostgreSQL or the file system."""
    orig = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps the driver's error
    if isinstance(orig, OSError) and orig.errno == errno.ENOSPC:
        return True
    return SQLITE_FULL in str(orig) or getattr(orig, "sqlstate", None) == PG_DISK_FULL


@dataclass(frozen=True)
class DiskReserve:
    """The reserve file of an SQLite database; `path` is None where there is none to keep."""

    path: Path | None

    @classmethod
    def for_database(cls, url: str) -> DiskReserve:
        database = make_url(url).database
        if not url.startswith("sqlite") or database in (None, "", ":memory:"):
            return cls(None)
        return cls(Path(database).resolve().with_name(Path(database).name + ".reserve"))

    def ensure(self) -> None:
        """Create the reserve if it is missing (at start, when space may have been freed)."""
        if self.path is None or self.path.exists():
            return
        try:
            with self.path.open("wb") as file:
                if hasattr(os, "posix_fallocate"):
                    os.posix_fallocate(file.fileno(), 0, RESERVE_BYTES)
                else:  # macOS: written out, as a sparse file would reserve nothing
                    file.write(bytes(RESERVE_BYTES))
        except OSError as exc:
            self.path.unlink(missing_ok=True)
            log.warning("No disk space reserve for the database (%s): %s", self.path, exc)

    def release(self) -> None:
        if self.path is None or not self.path.exists():
            return
        self.path.unlink(missing_ok=True)
        log.warning("The disk is full: released the database's %s reserve", self.path)

    def shortage(self) -> str | None:
        """What /health says when the disk under the database is (nearly) full, else None."""
        if self.path is None or self.path.exists():
            return None
        free = shutil.disk_usage(self.path.parent).free
        if free >= RESERVE_BYTES:
            return None
        return (
            f"disk nearly full: {free / 1e6:.1f} MB free on {self.path.parent}. Free space "
            "there, then restart the server to restore its reserve"
        )


def storage_advice(exc: BaseException, database_url: str, *, then: str = "retry the task") -> str:
    """What happened and what to do; `then` is the user's last step."""
    orig = getattr(exc, "orig", None) or exc
    reserve = DiskReserve.for_database(database_url).path
    where: object = "the database server's disk"
    if isinstance(orig, OSError) and orig.filename:
        where = Path(orig.filename).parent
    elif reserve is not None:
        where = reserve.parent
    restart = " restart the server (to restore its reserve) and" if reserve else ""
    return (
        f"The disk is full ({type(orig).__name__}: {orig}). "
        f"Free space on {where}, then{restart} {then}"
    )
