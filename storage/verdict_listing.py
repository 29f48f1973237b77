"""The stored verdicts as a listing prints them, read without the ORM.

An evaluation of a whole sites file stamps the ``verdicts`` table with what it was computed
from (see ``nianbao.storage.verdicts``); the store's part of that is ``store_state``. When a
listing's stamp is the stored one, ``listing`` streams each verdict's stored form (``as_json``
or ``as_csv``) in the evaluation's order — sites by their place in it (an index walk on
``verdict_sites``), then each site's rows (an index range on ``verdicts``), no sort — through
the bare driver: nothing is judged, built or written, and no ORM class is even imported, so
``nianbao check`` after the day's evaluation costs about what a plain ``SELECT`` of the rows
costs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from nianbao.storage.bare import Bare, begin_read

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

FORMS = ("as_json", "as_csv")
STREAM_ROWS = 5000
# The newest version, observation, fetch failure and issuer alias, the newest crawl run, and
# how many runs are still running (a run that ends changes what its observations prove): six
# index lookups, whatever the size of the store.
_STATE = ("SELECT (SELECT max(id) FROM versions), (SELECT max(id) FROM observations), "
          "(SELECT max(id) FROM fetch_failures), (SELECT max(id) FROM issuer_aliases), "
          "(SELECT max(id) FROM crawl_runs), "
          "(SELECT count(*) FROM crawl_runs WHERE status = 'running')")


def store_state(connection: Connection) -> tuple[int, ...]:
    """The store's side of a whole evaluation's stamp (see ``_STATE``)."""
    return tuple(value or 0 for value in connection.exec_driver_sql(_STATE).one())


def listing(engine: Engine, fingerprint: str, form: str) -> Iterator[bytes] | None:
    """``bare_listing`` on a connection of ``engine``'s pool."""
    raw = engine.raw_connection()
    return _listing(raw.driver_connection, engine.dialect.name, fingerprint, form, raw)


def bare_listing(bare: Bare, stamp: Callable[[tuple[int, ...]], str],
                 form: str) -> Iterator[bytes] | None:
    """The stored verdicts' ``form``, in the order of the whole evaluation stamped with
    ``stamp(state)`` (``state`` as ``store_state`` reads it, in the listing's own snapshot),
    through the bare driver; None when the table is not that evaluation's. ``bare`` is
    closed when the listing ends or when there is none."""
    begin_read(bare.connection, bare.dialect)
    try:
        cursor = bare.connection.cursor()
        cursor.execute(_STATE)
        fingerprint = stamp(tuple(value or 0 for value in cursor.fetchone()))
        cursor.close()
    except BaseException:
        bare.close()
        raise
    return _listing(bare.connection, bare.dialect, fingerprint, form, bare, begun=True)


def _listing(driver: Any, dialect: str, fingerprint: str, form: str, owner: Any,
             begun: bool = False) -> Iterator[bytes] | None:
    """The stored verdicts' ``form``, in the order of the whole evaluation stamped with
    ``fingerprint``, streamed ``STREAM_ROWS`` at a time (a server-side cursor on PostgreSQL)
    in one snapshot with the stamp; None when the table is not that evaluation's. ``owner``
    (the connection's holder) is closed at the end."""
    if form not in FORMS:
        owner.close()
        raise ValueError(f"unknown form {form!r}")
    try:
        if not begun:
            begin_read(driver, dialect)
        stamp = driver.execute("SELECT fingerprint, report_year FROM verdict_stamps").fetchone()
    except BaseException:
        owner.close()
        raise
    if stamp is None or stamp[0] != fingerprint:
        driver.rollback()
        owner.close()
        return None
    year = "" if stamp[1] is None else f" AND v.report_year = {int(stamp[1])}"
    if dialect == "postgresql":  # a nested loop with a small sort per site; OFFSET 0 keeps
        # the planner from flattening it into one join and one sort of every row (which it
        # picks when the verdicts' statistics are stale, and spills to disk)
        sql = (f"SELECT l.{form} FROM verdict_sites s CROSS JOIN LATERAL (SELECT v.{form}, "
               f"v.position FROM verdicts v WHERE v.site_id = s.site_id{year} OFFSET 0) l "
               "ORDER BY s.position, s.site_id, l.position")
    else:  # SQLite walks both indexes in this order
        sql = (f"SELECT v.{form} FROM verdict_sites s JOIN verdicts v ON v.site_id = s.site_id"
               f"{year} ORDER BY s.position, s.site_id, v.position")
    return _stream(dialect, driver, owner, sql)


def _stream(dialect: str, driver: Any, owner: Any, sql: str) -> Iterator[bytes]:
    try:
        if dialect == "postgresql":
            cursor = driver.cursor(name="nianbao_listing", binary=True)  # bytea as it is, not hex
        else:
            cursor = driver.cursor()
        cursor.execute(sql)
        while rows := cursor.fetchmany(STREAM_ROWS):
            for (value,) in rows:
                yield value
        cursor.close()
        driver.rollback()
    finally:
        owner.close()
