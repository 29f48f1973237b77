"""Which database, how to connect to it, and bringing its schema up to date.

SQLite (the default) is set up for one crawler writing while the CLI reads: WAL, foreign keys,
a 30 s busy timeout, and real transactions. Python's sqlite3 module would otherwise start a
transaction only before INSERT/UPDATE/DELETE, leaving reads and DDL outside it, so a migration
killed half-way would leave tables behind that the next start trips over. Here every
transaction is ``BEGIN IMMEDIATE``: it takes the write lock up front (waiting up to the busy
timeout) instead of failing when a read turns into a write under a concurrent writer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from nianbao.storage.bare import BUSY_TIMEOUT_MS, MIGRATIONS, given_url, head_revisions

# Any constant: the PostgreSQL advisory lock that serialises concurrent migrate() calls.
MIGRATION_LOCK_ID = 0x6E69616E62616F


class DatabaseMissing(RuntimeError):
    """A read-only command was pointed at a database that does not exist (or is not nianbao's)."""


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _absolute(url: str, base: Path) -> str:
    """``url`` with a relative SQLite path made absolute against ``base``."""
    path = _sqlite_file(url)
    if path is None or path.is_absolute():
        return url
    parsed = make_url(url).set(database=str(base / path))
    return parsed.render_as_string(hide_password=False)


def database_url(url: str | None = None, create: bool = True) -> str:
    """The URL given, else $NIANBAO_DATABASE_URL, else settings, with any SQLite path absolute:
    the settings' own relative to the project root, the user's relative to the current
    directory (see ``nianbao.settings``). With ``create`` a SQLite file's folder is made."""
    url = _absolute(*given_url(url))
    path = _sqlite_file(url)
    if create and path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    return url


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def open_existing(url: str | None = None) -> Engine:
    """An engine on an existing nianbao database, its schema brought up to date.

    For the commands that only read (``check``, ``reports``, ``feed``): a missing SQLite file,
    an unreachable server or a database without nianbao's tables raises ``DatabaseMissing``
    with a message for the user, and nothing is created.
    """
    url = database_url(url, create=False)
    path = _sqlite_file(url)
    if path is not None and not path.is_file():
        raise DatabaseMissing(f"no database at {path}: run `nianbao run` or `nianbao crawl` "
                              "first, or pass --db")
    engine = connect(url)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseMissing(f"cannot open the database {_shown(url)}: {reason}") from None
    if "alembic_version" not in tables:
        engine.dispose()
        raise DatabaseMissing(f"{_shown(url)} is not a nianbao database (no nianbao tables): "
                              "run `nianbao run` or `nianbao crawl` first")
    migrate(engine)
    return engine


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def connect(url: str) -> Engine:
    """An engine for ``url``; ``postgresql://`` is served by psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    # orjson reads and writes JSON columns several times faster than the json module
    # (listings of 100,000 rows decode one or two small JSON values each; a crawl writes a
    # full record per version). It writes UTF-8, not \uXXXX: a SQL reader's LIKE '%晋城%'
    # (Datasette, sqlite3) finds the Chinese the columns hold.
    # A server may drop idle connections: test each before use. A SQLite file cannot, and the
    # test would cost a query per transaction (a crawl makes thousands).
    engine = create_engine(parsed, pool_pre_ping=parsed.get_backend_name() != "sqlite",
                           json_deserializer=orjson.loads, json_serializer=_json_text)
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


def alembic_config() -> Any:
    """Alembic's configuration, built in code so it works from an installed package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _at_head(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            current = set(connection.exec_driver_sql(
                "SELECT version_num FROM alembic_version").scalars())
    except DBAPIError:  # no version table yet
        return False
    return bool(current) and current == head_revisions()


def migrate(engine: Engine) -> None:
    """Upgrade to the newest schema; a no-op when already there, so call it on every start.

    The whole upgrade is one transaction on both backends, so a crash leaves the old schema.
    A database already at the newest revision is recognised without loading Alembic (every
    command calls this; the commands that only read should start fast).
    """
    if _at_head(engine):
        return
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_ID)))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    from nianbao.storage.labels import sync_labels

    sync_labels(engine)
