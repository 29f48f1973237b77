"""The database through its bare driver (sqlite3 or psycopg), for listings that only read.

SQLAlchemy's import and engine set-up cost a listing of 100,000 rows about as much as its
rows do. ``open_bare`` opens the database the way ``nianbao.storage.db.open_existing`` would,
without importing SQLAlchemy, when it can tell that nothing more is needed: a URL it reads
exactly (``sqlite:///FILE``, ``postgresql[+psycopg]://…``), an existing database, and a schema
already at the newest migration. In any other case it gives None and the caller takes the
ordinary path, which migrates, explains a missing database, or reads a URL form SQLAlchemy
knows and this module does not.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nianbao.settings import PROJECT_ROOT, settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000  # a crawler may be writing while a command reads
_QUOTED = re.compile(r"[\"']([^\"']+)[\"']")
_SQLITE = re.compile(r"sqlite(?:\+pysqlite)?:///(?P<path>[^?#%]+)")
_POSTGRES = re.compile(r"(?:postgresql|postgres)(?:\+psycopg)?://(?P<rest>.*)")


@dataclass
class Bare:
    """An open driver connection (``dialect`` "sqlite" or "postgresql"), no transaction yet."""

    connection: Any
    dialect: str

    def close(self) -> None:
        self.connection.close()


def begin_read(driver: Any, dialect: str) -> None:
    """A read-only transaction on a driver connection: one snapshot for what follows."""
    if dialect == "postgresql":
        driver.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        # a listing's scans are cheap per row and its estimates large: JIT-compiling them
        # costs more (0.2-0.5 s) than it saves
        driver.execute("SET LOCAL jit = off")
    else:
        driver.execute("BEGIN")  # a deferred transaction: one snapshot from its first read


def head_revisions() -> set[str]:
    """The revisions no other migration revises, read from the migration files' own lines."""
    revisions, revised = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("revision ="):
                revisions.update(_QUOTED.findall(line))
            elif line.startswith("down_revision ="):
                revised.update(_QUOTED.findall(line))
    return revisions - revised


def given_url(url: str | None) -> tuple[str, Path]:
    """The URL given, else $NIANBAO_DATABASE_URL, else the settings', and the folder a relative
    SQLite path in it is taken from (the current directory for the user's, the project root
    for the settings')."""
    given = url or os.environ.get("NIANBAO_DATABASE_URL")
    if given:
        return given, Path.cwd()
    return settings()["storage"]["database_url"], PROJECT_ROOT


def _connect(url: str, base: Path) -> Bare | None:
    if match := _SQLITE.fullmatch(url):
        path = Path(match["path"])
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            return None  # the ordinary path says so (and never creates it)
        import sqlite3

        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return Bare(connection, "sqlite")
    if match := _POSTGRES.fullmatch(url):
        import psycopg

        return Bare(psycopg.connect("postgresql://" + match["rest"]), "postgresql")
    return None


def open_bare(url: str | None = None) -> Bare | None:
    """The database of ``url`` (else $NIANBAO_DATABASE_URL, else the settings') through its
    driver, or None when the ordinary path must open it (see the module docstring)."""
    try:
        bare = _connect(*given_url(url))
    except Exception:  # the ordinary path reports it as it always has
        return None
    if bare is None:
        return None
    try:
        cursor = bare.connection.cursor()
        cursor.execute("SELECT version_num FROM alembic_version")
        current = {row[0] for row in cursor.fetchall()}
        cursor.close()
        bare.connection.rollback()
    except Exception:
        bare.close()
        return None
    if not current or current != head_revisions():
        bare.close()
        return None
    return bare
