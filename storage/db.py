"""Which database, how to connect to it, and bringing its schema up to date.

SQLite (the default) is set up for one crawler writing while the CLI reads: WAL, foreign keys,
a 30 s busy timeout, and real transactions. Python's sqlite3 module would otherwise start a
transaction only before INSERT/UPDATE/DELETE, leaving reads and DDL outside it, so a migration
killed half-way would leave tables behind that the next start trips over. Here every
transaction is ``BEGIN IMMEDIATE``: it takes the write lock up front (waiting up to the busy
timeout) instead of failing when a read turns into a write under a concurrent writer.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url

from nianbao.settings import settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
# Any constant: the PostgreSQL advisory lock that serialises concurrent migrate() calls.
MIGRATION_LOCK_ID = 0x6E69616E62616F


def database_url(url: str | None = None) -> str:
    """The URL given, else $NIANBAO_DATABASE_URL, else settings; a SQLite file's folder is made."""
    url = url or os.environ.get("NIANBAO_DATABASE_URL") or settings()["storage"]["database_url"]
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return url


def connect(url: str) -> Engine:
    """An engine for ``url``; ``postgresql://`` is served by psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL keeps every commit safe from a killed process (and the file safe
        # from a power cut, which may only lose the last commits): no fsync per commit, which
        # cost a crawl more than its parsing. WARC records are fsynced before their rows.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config() -> Config:
    """Alembic's configuration, built in code so it works from an installed package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine) -> None:
    """Upgrade to the newest schema; a no-op when already there, so call it on every start.

    The whole upgrade is one transaction on both backends, so a crash leaves the old schema.
    """
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_ID)))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
