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

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

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
    """The stored verdicts' ``form``, in the order of the whole evaluation stamped with
    ``fingerprint``, streamed ``STREAM_ROWS`` at a time (a server-side cursor on PostgreSQL)
    in one snapshot with the stamp; None when the table is not that evaluation's."""
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r}")
    raw = engine.raw_connection()
    driver = raw.driver_connection
    try:
        if engine.dialect.name == "postgresql":
            driver.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        else:
            driver.execute("BEGIN")  # a deferred transaction: one snapshot from its first read
        stamp = driver.execute("SELECT fingerprint, report_year FROM verdict_stamps").fetchone()
    except BaseException:
        raw.close()
        raise
    if stamp is None or stamp[0] != fingerprint:
        raw.rollback()
        raw.close()
        return None
    year = "" if stamp[1] is None else f" AND v.report_year = {int(stamp[1])}"
    if engine.dialect.name == "postgresql":  # a nested loop with a small sort per site:
        sql = (f"SELECT l.{form} FROM verdict_sites s CROSS JOIN LATERAL (SELECT v.{form}, "
               f"v.position FROM verdicts v WHERE v.site_id = s.site_id{year}) l "
               "ORDER BY s.position, s.site_id, l.position")  # never one sort of every row
    else:  # SQLite walks both indexes in this order
        sql = (f"SELECT v.{form} FROM verdict_sites s JOIN verdicts v ON v.site_id = s.site_id"
               f"{year} ORDER BY s.position, s.site_id, v.position")
    return _stream(engine.dialect.name, raw, sql)


def _stream(dialect: str, raw: Any, sql: str) -> Iterator[bytes]:
    try:
        if dialect == "postgresql":
            cursor = raw.driver_connection.cursor(name="nianbao_listing")
        else:
            cursor = raw.driver_connection.cursor()
        cursor.execute(sql)
        while rows := cursor.fetchmany(STREAM_ROWS):
            for (value,) in rows:
                yield value
        cursor.close()
        raw.rollback()
    finally:
        raw.close()
