"""``nianbao reports --csv``'s rows read through the bare driver: the cells
``nianbao.storage.summaries.report_summaries`` gives the CSV, without SQLAlchemy.

At 100,000 reports SQLAlchemy's row processing, JSON decoding into dicts and a summary dict a
report cost ten times what the rows themselves do. Here the same rows (each report's
versions in the listing's order, with the report's current cross-year failed checks as the
store keeps them) are read through sqlite3 or psycopg, dates and times come as the text the CSV
shows, the failed checks' cell is made once for each pair of JSON texts it comes from (a
few combinations of check ids), and the key figures' cell is translated from their JSON text
as the store writes it (decoded only when it holds something else), so nothing is decoded a
report. The cells are those of the summary, value for value, so the CSV is byte for byte the
one the summaries print (a test compares the two).

Text stays UTF-8 bytes from the driver to the output (sqlite3's ``text_factory``, psycopg's
bytea loader for text): the 40 MB a national listing writes are never decoded into ``str``
and encoded back, which cost as much as everything else the listing does in Python.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from typing import Any

import orjson

from nianbao.escaping import FORMULA_START, csv_cell, csv_row
from nianbao.storage.bare import Bare, begin_read
from nianbao.vocabulary.figures import KEY_FIGURES

STREAM_ROWS = 5000
# Each report's versions in the listing's order (site, issuer name, issuer, year, version),
# with its current cross-year failed checks as the store keeps them; the date and the UTC time
# as ``str()`` of the values SQLAlchemy gives would read, JSON as JSON text. SQLite stores the
# date and time as that text, and walks the indexes in this order with no sort.
_LISTINGS = {"sqlite": """
SELECT r.id, i.site_id, i.name, r.report_year, v.url, v.published_date, v.date_source,
       v.format, v.failed_checks, v.key_figures, v.first_seen, r.cross_year_failed
FROM issuers i INDEXED BY ix_issuers_site_id_name
JOIN reports r ON r.issuer_id = i.id
JOIN versions v INDEXED BY ix_versions_listing ON v.report_id = r.id
{where}
ORDER BY i.site_id, i.name, i.id, r.report_year, v.id
""",
# PostgreSQL walks the issuers in order (their index, then a sort within a site), each one's
# reports and each report's versions by index seeks (never merged into hash joins: OFFSET 0),
# so the only sort left is of one issuer's few rows at a time: the rows come as they are made,
# each converted to text as it is made, from the first milliseconds, where a sort of all the
# versions would convert them all and write them to disk before the first. Dates and times are
# cast to text in the ISO style (set in ``_rows``), cheaper than ``to_char`` (some 80 ms over
# 110,000 versions).
             "postgresql": """
SELECT r.id, i.site_id, i.name, r.report_year, v.url,
       v.published_date::text, v.date_source, v.format, v.failed_checks::text,
       v.key_figures::text, (v.first_seen AT TIME ZONE 'UTC')::text,
       r.cross_year_failed::text
FROM (SELECT id, site_id, name FROM issuers{issuers_where} ORDER BY site_id, name, id) i
CROSS JOIN LATERAL (SELECT id, report_year, cross_year_failed FROM reports r
                    WHERE issuer_id = i.id{reports_where} OFFSET 0) r
CROSS JOIN LATERAL (SELECT id, url, published_date, date_source, format, failed_checks,
                           key_figures, first_seen
                    FROM versions WHERE report_id = r.id OFFSET 0) v
ORDER BY i.site_id, i.name, i.id, r.report_year, v.id
"""}
_REPORT = itemgetter(0)
# What sends a row to ``csv.writer``: a cell (each follows a NUL) starting as a formula would
# (a search that jumps from NUL to NUL), or a character that makes ``csv.writer`` quote the
# cell (found by deleting those bytes: a scan in C, where a search for a set of bytes steps
# through the regex engine at every byte). In UTF-8 no byte of a multibyte character is
# ASCII, so the bytes say what the characters would.
_FORMULA = re.compile(b"\0[" + re.escape("".join(FORMULA_START).encode()) + b"]")
_QUOTED = b',"\r\n'
_LINE = b"%s,%s,%d,%s,%s,%s,%d,%s,%s,%s,%s\r\n"
_PAIR = "%s=%s".__mod__  # f"{k}={v}" of a (k, v) pair, with no Python frame a pair
FAILED_CACHED = 4096  # pairs of failed checks' JSON texts whose cell is kept


def _when(stored: bytes) -> bytes:
    """``str()`` of the UTC datetime stored as ``stored`` (``YYYY-MM-DD HH:MM:SS[.ffffff]``:
    SQLAlchemy writes the six digits on SQLite, PostgreSQL's text drops the fraction's
    trailing zeros), UTF-8."""
    if len(stored) == 26 and stored[19] == 46:  # "."
        return (stored[:19] if stored.endswith(b"000000") else stored) + b"+00:00"
    if len(stored) == 19 and stored[10] == 32:  # " ", no fraction
        return stored + b"+00:00"
    return str(datetime.fromisoformat(stored.decode()).replace(tzinfo=UTC)).encode()


_NUMBERS = b"-0123456789"


def _skeleton(text: bytes) -> bytes:
    """``text`` without its integers and nulls."""
    return text.replace(b"null", b"").translate(None, _NUMBERS)


# The key figures as the store writes them (``record_extracts``): every key of the vocabulary,
# each an integer or null — on SQLite orjson's compact JSON in the vocabulary's order, on
# PostgreSQL jsonb's text (its own key order, a space after each colon and comma), which the
# server itself is asked for (``_stored_figures``). Such a text becomes the cell by
# translating its punctuation (the keys hold none), in its own order, as the decoded values
# would print, with nothing decoded; any other (a float, a string, other keys) is decoded.
_PUNCTUATION = bytes.maketrans(b":,", b"= ")


def _stored_figures(bare: Bare) -> bytes:
    """The skeleton of the key figures' text as this database stores it."""
    every = orjson.dumps(dict.fromkeys(KEY_FIGURES)).decode()
    if bare.dialect == "sqlite":
        return _skeleton(every.encode())
    [(text,)] = bare.connection.execute("SELECT %s::jsonb::text", [every]).fetchall()
    return _skeleton(text.encode())


def _figures(text: bytes | None, stored: bytes) -> bytes:
    """The key figures' cell, ``k=v`` pairs (``str()`` of each value) joined by spaces;
    ``stored``: ``_stored_figures`` of the database the text comes from."""
    if text and _skeleton(text) == stored:
        cell = text[1:-1].translate(_PUNCTUATION, b'" ')
        return cell.replace(b"=null", b"=None") if b"null" in cell else cell
    figures = orjson.loads(text) if text else None
    return " ".join(map(_PAIR, figures.items())).encode() if figures else b""


def listed_failed(own: list[str] | None, cross: list[str] | None) -> list[str]:
    """The failed checks a listing shows for a report: its latest version's own (``own``), then
    those of its current cross-year results (``Report.cross_year_failed``), each once."""
    failed = [*(own or []), *(cross or [])]
    return list(dict.fromkeys(failed)) if len(failed) > 1 else failed


@lru_cache(maxsize=FAILED_CACHED)
def _failed(own: bytes | None, cross: bytes | None) -> bytes:
    """``listed_failed`` of the two JSON columns as stored, as the CSV cell."""
    return " ".join(listed_failed(orjson.loads(own) if own else None,
                                  orjson.loads(cross) if cross else None)).encode()


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode()


def _written(writer: Any, buffer: io.StringIO, cells: list[Any]) -> bytes:
    """``cells`` as ``csv.writer`` writes them, guarded as ``csv_row`` guards them, UTF-8."""
    site, issuer, report_year, fmt, published, source, versions, seen, url, failed, figures = (
        cells)
    buffer.seek(0)
    buffer.truncate()
    writer.writerow([*csv_row((site, issuer)), report_year, csv_cell(fmt), published,
                     csv_cell(source), versions, seen, *csv_row((url, failed, figures))])
    return buffer.getvalue().encode()


def _rows(bare: Bare, sql: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
    """The rows of ``sql``, their text as its UTF-8 bytes, streamed: SQLite's cursor steps
    through them as they are read; PostgreSQL sends them in chunks as it makes them (libpq
    17's chunked rows, which the pinned psycopg[binary] bundles; a server-side cursor would
    make the server wait for each FETCH), so what it makes while the rows before are written
    is not waited for. With an older libpq (a psycopg built against the system's) they come
    one row at a time, the same rows, more slowly."""
    driver = bare.connection
    if bare.dialect == "sqlite":
        driver.text_factory = bytes
        return driver.execute(sql, params)
    from psycopg import pq
    from psycopg.types.string import ByteaBinaryLoader

    driver.execute("SET LOCAL client_encoding = 'UTF8'")
    driver.execute("SET LOCAL DateStyle = 'ISO'")  # what the listing's ``::text`` reads as
    # each report's versions are read once: a cache of them (Memoize) would only cost
    driver.execute("SET LOCAL enable_memoize = off")
    cursor = driver.cursor(binary=True)
    for text in ("text", "varchar"):  # in binary, a text value is its bytes
        cursor.adapters.register_loader(text, ByteaBinaryLoader)
    return cursor.stream(sql, params, size=STREAM_ROWS if pq.version() >= 170000 else 1)


def report_lines(bare: Bare, site_id: str | None = None,
                 year: int | None = None) -> Iterator[bytes]:
    """The CSV lines of each report (``nianbao.commands.reports.COLUMNS``'s cells, guarded
    against formulas as ``nianbao.escaping.csv_row`` does, written as ``csv.writer`` writes
    them), UTF-8, in the order of ``report_summaries``, streamed; ``bare`` is closed at the end.

    A row with no cell that needs quoting or a guard (nearly every one: a ``csv.writer``
    quotes a cell only for a comma, a quote or a line break in it) is joined here; any other
    is written by ``csv.writer`` itself."""
    mark = "?" if bare.dialect == "sqlite" else "%s"
    by_site = f"site_id = {mark}" if site_id is not None else ""
    by_year = f"r.report_year = {mark}" if year is not None else ""
    where = " AND ".join(c for c in (by_site and "i." + by_site, by_year) if c)
    sql = _LISTINGS[bare.dialect].format(where=where and "WHERE " + where,
                                         issuers_where=by_site and " WHERE " + by_site,
                                         reports_where=by_year and " AND " + by_year)
    params = [p for p in (site_id, year) if p is not None]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    driver = bare.connection
    try:
        begin_read(driver, bare.dialect)
        stored = _stored_figures(bare)
        for _, group in groupby(_rows(bare, sql, params), key=_REPORT):
            every = list(group)
            last = every[-1]
            if len(every) == 1:
                versions, seen = 1, last[10]
            else:
                versions, seen = len(every), min(row[10] for row in every)
            _, site, issuer, report_year, url, published, source, fmt = last[:8]
            failed = _failed(last[8], last[11])
            figures = _figures(last[9], stored)
            if None in (site, issuer, report_year, fmt, published, source, url):
                text = None
            else:  # the cells of text (dates, times and numbers need no quotes nor a guard)
                text = b"\0%s\0%s\0%s\0%s\0%s\0%s\0%s" % (site, issuer, fmt, source, url,
                                                            failed, figures)
            if (text is None or _FORMULA.search(text)
                    or len(text.translate(None, _QUOTED)) != len(text)):
                yield _written(writer, buffer, [
                    _text(site), _text(issuer), report_year, _text(fmt), _text(published),
                    _text(source), versions, _when(seen).decode(), _text(url),
                    failed.decode(), figures.decode()])
            else:
                yield _LINE % (site, issuer, report_year, fmt, published, source, versions,
                               _when(seen), url, failed, figures)
        driver.rollback()
    finally:
        bare.close()
