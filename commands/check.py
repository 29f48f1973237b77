"""``nianbao check``: the compliance table (who published on time), readable, JSON Lines or CSV.

JSON and CSV carry the same fields (``nianbao.checks.verdict_text.FIELDS``): the verdict, its
date evidence, the URL, the explanation and the observation it rests on. Verdicts are printed
as they are computed, a batch of sites at a time; as of today (the default) they are also
stored in the ``verdicts`` table. When nothing the stored table was computed from has changed
(the sites file, the rules, the day, what is stored), JSON and CSV stream the stored verdicts
as they are, without reading the sites file. The database must exist: a missing one is an
error (exit 2), never an empty table.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from itertools import groupby
from pathlib import Path
from zoneinfo import ZoneInfo

from nianbao.checks.verdict_text import FIELDS
from nianbao.commands.crawl import add_storage_arguments
from nianbao.commands.output import write_lines
from nianbao.settings import PROJECT_ROOT, settings
from nianbao.sites import SitesError, load_sites, select_sites

TABLE = ("issuer", "kind", "year", "status", "deadline", "published", "evidence", "days_late")
FORMS = {"json": "as_json", "csv": "as_csv"}


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


def print_table(verdicts: Iterable, as_of: date) -> None:
    """Verdicts as they come, as a table per site, then the counts."""
    from nianbao.checks.compliance import STATUSES
    from nianbao.escaping import terminal

    out = sys.stdout
    counts = dict.fromkeys(STATUSES, 0)
    out.write(f"compliance as of {as_of}\n")
    for site_id, site_verdicts in groupby(verdicts, key=lambda v: v.site_id):
        rows = [record(v, as_of) for v in site_verdicts]
        for row in rows:
            counts[row["status"]] += 1
        out.writelines(terminal(line) + "\n" for line in site_table(site_id, rows))
    out.write(", ".join(f"{n} {status}" for status, n in counts.items()) + "\n")


def print_verdicts(verdicts: Iterable, fmt: str, as_of: date) -> None:
    """Print verdicts as they come: JSON Lines, CSV, or a table per site with the counts."""
    if fmt == "table":
        print_table(verdicts, as_of)
        return
    from nianbao.checks.verdict_text import Renderer

    render = Renderer()
    write_lines(lines((render(v)[FORMS[fmt]] for v in verdicts), fmt, as_of))


def lines(stored: Iterable[bytes], fmt: str, as_of: date) -> Iterator[bytes]:
    """The printed JSON Lines or CSV (with its header) of verdicts in their stored form."""
    from nianbao.checks.verdict_text import HEADER, csv_line, csv_tail, json_line, json_tail

    if fmt == "json":
        tail = json_tail(as_of)
        return (json_line(value, tail) for value in stored)
    tail = csv_tail(as_of)
    return _prefixed(HEADER, (csv_line(value, tail) for value in stored))


def _prefixed(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _list_bare(args: argparse.Namespace, sites_file: bytes, fmt: str, as_of: date) -> bool:
    """Print the stored evaluation of the whole sites file through the bare driver, without
    importing SQLAlchemy, if it is today's and still holds; False when the ordinary path
    must run (no stored evaluation, or a database ``open_bare`` leaves to it)."""
    from nianbao.checks.deadlines import DeadlineError, load_rules
    from nianbao.checks.stamp import listed_bare
    from nianbao.storage.bare import open_bare

    try:
        rules = load_rules()
    except DeadlineError:
        return False  # the ordinary path reports it
    bare = open_bare(args.db)
    if bare is None:
        return False
    stored = listed_bare(bare, sites_file, rules, as_of, args.year, FORMS[fmt])
    if stored is None:
        return False
    write_lines(lines(stored, fmt, as_of))
    return True


def cmd_check(args: argparse.Namespace) -> int:
    from nianbao.checks.deadlines import DeadlineError, load_rules

    today = datetime.now(ZoneInfo(settings()["schedule"]["timezone"])).date()
    as_of = args.as_of or today
    fmt = "json" if args.json else "csv" if args.csv else "table"
    store = as_of == today
    try:
        sites_file = args.sites.read_bytes()
    except OSError as exc:
        print(f"nianbao: {args.sites}: cannot read: {exc.strerror}", file=sys.stderr)
        return 2
    if fmt != "table" and store and not args.site and _list_bare(args, sites_file, fmt, as_of):
        return 0
    from nianbao.storage.db import DatabaseMissing, open_existing

    try:
        engine = open_existing(args.db)
    except DatabaseMissing as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    try:
        rules = load_rules()
        if fmt == "table":
            from nianbao.checks.compliance import evaluate

            sites = select_sites(load_sites(args.sites), args.site)
            print_table(evaluate(engine, sites, as_of, site_ids=args.site, year=args.year,
                                 rules=rules, store=store), as_of)
            return 0
        from nianbao.checks.stamp import listed, stamp

        whole = store and not args.site  # only a whole evaluation is stamped
        value = stamp(engine, sites_file, rules, as_of, args.year) if whole else None
        stored = listed(engine, value, FORMS[fmt]) if value else None
        if stored is None:
            from nianbao.checks.compliance import printed

            sites = select_sites(load_sites(args.sites), args.site)
            stored = printed(engine, sites, as_of, FORMS[fmt], site_ids=args.site,
                             year=args.year, rules=rules, store=store, stamp=value)
        write_lines(lines(stored, fmt, as_of))
    except (SitesError, DeadlineError) as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0
