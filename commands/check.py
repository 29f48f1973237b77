"""``nianbao check``: the compliance table (who published on time), readable, JSON Lines or CSV.

JSON and CSV carry the same fields (``FIELDS``): the verdict, its date evidence, the URL, the
explanation and the observation it rests on. Verdicts are printed as they are computed, a batch
of sites at a time; as of today (the default) they are also stored in the ``verdicts`` table.
The database must exist: a missing one is an error (exit 2), never an empty table.
"""

from __future__ import annotations

import argparse
import csv
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from itertools import groupby
from operator import attrgetter
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from nianbao.commands.crawl import add_storage_arguments
from nianbao.settings import PROJECT_ROOT, settings
from nianbao.sites import SitesError, load_sites, select_sites

FIELDS = ("site_id", "issuer_id", "issuer", "kind", "report_year", "status", "deadline",
          "grace_days", "published_date", "evidence", "days_late", "warnings", "version_id",
          "url", "explanation", "observation_id", "observation", "reasons", "as_of")
TABLE = ("issuer", "kind", "year", "status", "deadline", "published", "evidence", "days_late")


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", type=date.fromisoformat, metavar="DATE",
                        help="judge as on this day, YYYY-MM-DD (default: today, Beijing time; "
                        "only today's verdicts are stored)")
    parser.add_argument("--site", action="append", metavar="ID", help="only this site")
    parser.add_argument("--year", type=int, metavar="N", help="only this report year")
    parser.add_argument("--sites", type=Path, default=PROJECT_ROOT / "config" / "sites.yaml",
                        metavar="FILE", help="sites file (default config/sites.yaml)")
    add_storage_arguments(parser)
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object per line")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row, same fields")


def record(verdict, as_of: date) -> dict:
    """A verdict as a plain dict of ``FIELDS`` (days as ``date``)."""
    return {**{name: getattr(verdict, name) for name in FIELDS[:-1]}, "as_of": as_of}


def json_lines(verdicts: Iterable, as_of: date) -> Iterator[bytes]:
    """JSON Lines records of ``FIELDS``: orjson writes each verdict dataclass itself (its
    fields are ``FIELDS`` but ``as_of``, in order), then ``as_of`` closes the object."""
    tail = b',"as_of":"' + as_of.isoformat().encode() + b'"}\n'
    for verdict in verdicts:
        yield orjson.dumps(verdict)[:-1] + tail


_VALUES = attrgetter(*FIELDS[:-1])
_LISTS = (FIELDS.index("warnings"), FIELDS.index("reasons"))


def csv_values(verdict, as_of: date) -> list:
    """One CSV row of ``FIELDS``; lists joined with "; ", None empty."""
    values = [*_VALUES(verdict), as_of]
    for i in _LISTS:
        values[i] = "; ".join(values[i])
    return values


def _width(text: str) -> int:
    """Display width: CJK characters take two terminal columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cells(row: dict) -> list[str]:
    return [row["issuer"], row["kind"], str(row["report_year"]), row["status"],
            str(row["deadline"]), str(row["published_date"] or ""), row["evidence"],
            "" if row["days_late"] is None else str(row["days_late"])]


def site_table(site_id: str, rows: list[dict]) -> Iterator[str]:
    """One site's verdicts as an aligned table, each with its observation and warnings."""
    cells = [_cells(r) for r in rows]
    widths = [max([_width(c), *(_width(row[i]) for row in cells)]) for i, c in enumerate(TABLE)]

    def line(values: list[str]) -> str:
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True))

    yield f"{site_id}"
    yield "  " + line(list(TABLE)).rstrip()
    for row, values in zip(rows, cells, strict=True):
        yield "  " + line(values).rstrip()
        if row["status"] in ("missing", "unobserved") and row["observation"]:
            yield f"      observed: {row['observation']}"
        if row["warnings"]:
            yield f"      warnings: {'; '.join(row['warnings'])}"


def print_verdicts(verdicts: Iterable, fmt: str, as_of: date) -> None:
    """Print verdicts as they come: JSON Lines, CSV, or a table per site with the counts."""
    from nianbao.checks.compliance import STATUSES
    from nianbao.escaping import csv_row, terminal

    out = sys.stdout
    if fmt == "json":
        out.flush()
        out.buffer.writelines(json_lines(verdicts, as_of))
        return
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(FIELDS)
        writer.writerows(csv_row(csv_values(v, as_of)) for v in verdicts)
        return
    counts = dict.fromkeys(STATUSES, 0)
    out.write(f"compliance as of {as_of}\n")
    for site_id, site_verdicts in groupby(verdicts, key=lambda v: v.site_id):
        rows = [record(v, as_of) for v in site_verdicts]
        for row in rows:
            counts[row["status"]] += 1
        out.writelines(terminal(line) + "\n" for line in site_table(site_id, rows))
    out.write(", ".join(f"{n} {status}" for status, n in counts.items()) + "\n")


def cmd_check(args: argparse.Namespace) -> int:
    from nianbao.checks.compliance import evaluate
    from nianbao.checks.deadlines import DeadlineError
    from nianbao.storage.db import DatabaseMissing, open_existing

    try:
        sites = select_sites(load_sites(args.sites), args.site)
    except SitesError as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    today = datetime.now(ZoneInfo(settings()["schedule"]["timezone"])).date()
    as_of = args.as_of or today
    try:
        engine = open_existing(args.db)
    except DatabaseMissing as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    fmt = "json" if args.json else "csv" if args.csv else "table"
    try:
        verdicts = evaluate(engine, sites, as_of, site_ids=args.site, year=args.year,
                            store=as_of == today)
        print_verdicts(verdicts, fmt, as_of)
    except DeadlineError as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0
