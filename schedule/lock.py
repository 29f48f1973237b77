"""One scheduler per database.

APScheduler 3 does not support two schedulers sharing a job store: both would run every job.
So a scheduler holds a lock for its whole lifetime and a second one refuses to start.

- PostgreSQL: a session advisory lock on a dedicated connection. It is keyed by the schema
  the job store lives in (the connection's ``current_schema()``), so two schemas of one
  database (as the tests use) are two job stores with two locks. The server drops the lock
  when the connection dies, so a killed scheduler never leaves it behind.
- SQLite: an exclusive ``flock`` on ``<database file>.scheduler.lock``; the kernel drops it
  when the process exits, however it exits.
"""

from __future__ import annotations

import fcntl
import os
import zlib
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.engine import make_url

from nianbao.storage.db import connect

# Any constant: the advisory-lock class of "the nianbao scheduler" (the migration lock is another).
SCHEDULER_LOCK_CLASS = 0x6E6962


class SchedulerLocked(RuntimeError):
    """Another scheduler already runs on this database."""


def describe(url: str) -> str:
    """The database as a person recognises it, without a password."""
    return make_url(url).render_as_string(hide_password=True)


class SchedulerLock:
    """Held from ``acquire()`` to ``release()`` (or the ``with`` block)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._file: IO[str] | None = None
        self._engine: Engine | None = None
        self._connection: Connection | None = None

    def __enter__(self) -> SchedulerLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock or raise SchedulerLocked naming the database."""
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "postgresql":
            self._acquire_postgresql()
        elif parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "",
                                                                               ":memory:"):
            self._acquire_file(Path(parsed.database))
        # An in-memory SQLite database belongs to one process: nothing to share, nothing to lock.

    def _acquire_postgresql(self) -> None:
        engine = connect(self.url).execution_options(isolation_level="AUTOCOMMIT")
        connection = engine.connect()
        schema = connection.execute(select(func.current_schema())).scalar_one()
        key = zlib.crc32(schema.encode()) - 2**31  # the int4 second key of the lock
        taken = connection.execute(
            select(func.pg_try_advisory_lock(SCHEDULER_LOCK_CLASS, key))).scalar_one()
        if not taken:
            connection.close()
            engine.dispose()
            raise SchedulerLocked(f"another scheduler is already running on {describe(self.url)}"
                                  f" (schema {schema}); only one may run per database")
        self._engine, self._connection = engine, connection

    def _acquire_file(self, database: Path) -> None:
        path = database.with_name(database.name + ".scheduler.lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise SchedulerLocked(
                f"another scheduler is already running on {describe(self.url)} (pid {holder}, "
                f"lock file {path}); only one may run per database") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        """Give the lock back; safe to call twice."""
        if self._connection is not None:
            self._connection.close()  # ends the session, which drops the advisory lock
            self._connection = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
