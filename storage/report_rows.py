"""``nianbao reports --csv``'s rows read through the bare driver: the cells
``nianbao.storage.summaries.report_summaries`` gives the CSV, without SQLAlchemy.

At 100,000 reports SQLAlchemy's row processing, JSON decoding into dicts and a summary dict a
report cost ten times what the rows themselves do. Here the same query (each report's
versions in the indexes' order, with the report's current cross-year failed checks as the
store keeps them) is sent through sqlite3 or psycopg, dates and times come as the text the CSV
shows, and a JSON column is decoded only when it says something: an empty ``failed_checks``
and ``cross_year_failed`` (``[]``) — nearly every report — take no decoding but the key
figures'. The cells are those of the summary, value for value, so the CSV is
byte for byte the one the summaries print (a test compares the two).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import chain, groupby
from operator import itemgetter

import orjson

from nianbao.escaping import FORMULA_START, csv_cell, csv_row
from nianbao.storage.bare import Bare, begin_read

STREAM_ROWS = 5000
_LISTING = """
SELECT r.id, i.site_id, i.name, r.report_year, v.id, v.url, {published}, v.date_source,
       v.format, {failed}, {figures}, {first_seen}, {cross}
FROM issuers i{issuers_hint}
JOIN reports r ON r.issuer_id = i.id
JOIN versions v{versions_hint} ON v.report_id = r.id
{where}
ORDER BY i.site_id, i.name, i.id, r.report_year, v.id
"""
# What each dialect hands over as text: the date and the UTC time as ``str()`` of the values
# SQLAlchemy gives would read (SQLite stores them as that text already), JSON as JSON text.
_COLUMNS = {
    "sqlite": {"published": "v.published_date", "failed": "v.failed_checks",
               "figures": "v.key_figures", "first_seen": "v.first_seen",
               "cross": "r.cross_year_failed",
               "issuers_hint": " INDEXED BY ix_issuers_site_id_name",
               "versions_hint": " INDEXED BY ix_versions_listing"},
    "postgresql": {"published": "to_char(v.published_date, 'YYYY-MM-DD')",
                   "failed": "v.failed_checks::text", "figures": "v.key_figures::text",
                   "first_seen": "to_char(v.first_seen AT TIME ZONE 'UTC', "
                                 "'YYYY-MM-DD HH24:MI:SS.US')",
                   "cross": "r.cross_year_failed::text", "issuers_hint": "", "versions_hint": ""},
}
_REPORT = itemgetter(0)
# What sends a row to ``csv.writer``: a cell (each follows a NUL) starting as a formula would,
# or a character that makes ``csv.writer`` quote the cell
_NEEDS_WRITER = re.compile("\0[" + re.escape("".join(FORMULA_START)) + "]|[,\"\r\n]")


def _when(stored: str) -> str:
    """``str()`` of the UTC datetime stored as ``stored`` (``YYYY-MM-DD HH:MM:SS.ffffff``, the
    form SQLAlchemy writes on SQLite and the PostgreSQL query gives)."""
    if len(stored) == 26 and stored[19] == ".":
        return (stored[:19] if stored.endswith("000000") else stored) + "+00:00"
    return str(datetime.fromisoformat(stored).replace(tzinfo=UTC))


def _figures(text: str | None) -> str:
    figures = orjson.loads(text) if text else None
    return " ".join([f"{k}={v}" for k, v in (figures or {}).items()])


def listed_failed(own: list[str] | None, cross: list[str] | None) -> list[str]:
    """The failed checks a listing shows for a report: its latest version's own (``own``), then
    those of its current cross-year results (``Report.cross_year_failed``), each once."""
    failed = [*(own or []), *(cross or [])]
    return list(dict.fromkeys(failed)) if len(failed) > 1 else failed


def _failed(own: str | None, cross: str | None) -> str:
    """``listed_failed`` of the two JSON columns as stored, as the CSV cell."""
    return " ".join(listed_failed(orjson.loads(own) if own and own != "[]" else None,
                                  orjson.loads(cross) if cross and cross != "[]" else None))


def report_lines(bare: Bare, site_id: str | None = None,
                 year: int | None = None) -> Iterator[str]:
    """The CSV lines of each report (``nianbao.commands.reports.COLUMNS``'s cells, guarded
    against formulas as ``nianbao.escaping.csv_row`` does, written as ``csv.writer`` writes
    them), in the order of ``report_summaries``, streamed; ``bare`` is closed at the end.

    A row with no cell that needs quoting or a guard (nearly every one: a ``csv.writer``
    quotes a cell only for a comma, a quote or a line break in it) is joined here; any other
    is written by ``csv.writer`` itself."""
    mark = "?" if bare.dialect == "sqlite" else "%s"
    where, params = [], []
    if site_id is not None:
        where.append(f"i.site_id = {mark}")
        params.append(site_id)
    if year is not None:
        where.append(f"r.report_year = {mark}")
        params.append(year)
    sql = _LISTING.format(where="WHERE " + " AND ".join(where) if where else "",
                          **_COLUMNS[bare.dialect])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    driver = bare.connection
    try:
        begin_read(driver, bare.dialect)
        if bare.dialect == "postgresql":
            cursor = driver.cursor(name="nianbao_reports", binary=True)
        else:
            cursor = driver.cursor()
        cursor.execute(sql, params)
        rows = chain.from_iterable(iter(lambda: cursor.fetchmany(STREAM_ROWS), []))
        for _, group in groupby(rows, key=_REPORT):
            every = list(group)
            last = every[-1]
            if len(every) == 1:
                versions, seen = 1, last[11]
            else:
                versions, seen = len(every), min(row[11] for row in every)
            own, cross = last[9], last[12]
            if (not own or own == "[]") and (not cross or cross == "[]"):
                failed = ""
            else:
                failed = _failed(own, cross)
            _, site, issuer, report_year, _, url, published, source, fmt = last[:9]
            figures = _figures(last[10])
            # the cells of text (dates, times and numbers need neither quotes nor a guard)
            text = f"\0{site}\0{issuer}\0{fmt}\0{source}\0{url}\0{failed}\0{figures}"
            if _NEEDS_WRITER.search(text) or None in (site, issuer, fmt, published, source, url):
                buffer.seek(0)
                buffer.truncate()
                writer.writerow([*csv_row((site, issuer)), report_year, csv_cell(fmt),
                                 published, csv_cell(source), versions, _when(seen),
                                 *csv_row((url, failed, figures))])
                yield buffer.getvalue()
            else:
                yield (f"{site},{issuer},{report_year},{fmt},{published},{source},{versions},"
                       f"{_when(seen)},{url},{failed},{figures}\r\n")
        cursor.close()
        driver.rollback()
    finally:
        bare.close()
