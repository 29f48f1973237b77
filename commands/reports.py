"""``nianbao reports``: what is stored, as a table, JSON Lines or CSV — or, with ``--failures``,
every failed identity of the stored reports with the numbers that break it.

Rows are printed as the database streams them. The database must exist: a missing one is an
error (exit 2), never "0 reports".
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from itertools import chain

from nianbao.commands.crawl import add_storage_arguments

COLUMNS = ("site", "issuer", "report_year", "format", "published_date", "date_source",
           "versions", "first_seen", "url", "failed_checks", "key_figures")
FAILURE_COLUMNS = ("site", "issuer", "report_year", "check", "label", "severity", "detail",
                   "url", "version_id")


def add_reports_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", metavar="ID")
    parser.add_argument("--year", type=int, metavar="N", help="report year")
    parser.add_argument("--failures", action="store_true",
                        help="list the failed identities (勾稽关系) with their numbers and labels")
    add_storage_arguments(parser)
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object per line")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row")


def _flat(row: dict) -> dict:
    out = {key: row.get(key) for key in COLUMNS}
    out["failed_checks"] = " ".join(row.get("failed_checks") or [])
    out["key_figures"] = " ".join(f"{k}={v}" for k, v in (row.get("key_figures") or {}).items())
    return out


def _cells(row: dict) -> list:
    """``_flat(row)``'s values, built straight as a list (a CSV row per report)."""
    return [row["site"], row["issuer"], row["report_year"], row["format"],
            row["published_date"], row["date_source"], row["versions"], row["first_seen"],
            row["url"], " ".join(row["failed_checks"] or []),
            " ".join(f"{k}={v}" for k, v in (row["key_figures"] or {}).items())]


def _print_reports(rows, args: argparse.Namespace) -> None:
    from nianbao.escaping import csv_row, terminal

    out = sys.stdout
    if args.json:
        out.writelines(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows)
        return
    if args.csv:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(csv_row(_cells(row)) for row in rows)
        return
    count = 0
    for row in rows:
        flat = {key: terminal(value) for key, value in _flat(row).items()}
        failed = f"  FAILED: {flat['failed_checks']}" if flat["failed_checks"] else ""
        out.write(f"{flat['site']:<12} {flat['report_year']} {flat['issuer']}  "
                  f"format {flat['format']}  published {flat['published_date']} "
                  f"({flat['date_source']})  versions {flat['versions']}{failed}\n"
                  f"    {flat['url']}\n    {flat['key_figures']}\n")
        count += 1
    out.write(f"{count} report(s)\n")


def _print_failures(rows, args: argparse.Namespace) -> None:
    from nianbao.escaping import csv_row, terminal
    from nianbao.vocabulary.identities import identity_label

    out = sys.stdout
    rows = ({**row, "label": identity_label(row["check"])} for row in rows)
    if args.json:
        out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        return
    if args.csv:
        writer = csv.writer(out)
        writer.writerow(FAILURE_COLUMNS)
        writer.writerows(csv_row(row[c] for c in FAILURE_COLUMNS) for row in rows)
        return
    count = 0
    for row in rows:
        row = {key: terminal(value) for key, value in row.items()}
        out.write(f"{row['site']:<12} {row['report_year']} {row['issuer']}  {row['check']} "
                  f"[{row['severity']}] {row['label']}: {row['detail']}\n    {row['url']}\n")
        count += 1
    out.write(f"{count} failed identit{'y' if count == 1 else 'ies'}\n")


def _csv_bare(args: argparse.Namespace) -> bool:
    """``reports --csv`` through the bare driver (``nianbao.storage.report_rows``), without
    importing SQLAlchemy; False when the ordinary path must open the database. The lines come
    as UTF-8 bytes and go out as they are where stdout writes UTF-8 (decoded where not)."""
    from nianbao.storage.bare import open_bare

    bare = open_bare(args.db)
    if bare is None:
        return False
    from nianbao.commands.output import write_lines
    from nianbao.storage.report_rows import report_lines

    header = ",".join(COLUMNS) + "\r\n"  # as csv.writer writes it: no name needs quotes
    write_lines(chain([header.encode()], report_lines(bare, args.site, args.year)))
    return True


def cmd_reports(args: argparse.Namespace) -> int:
    if args.csv and not args.failures and _csv_bare(args):
        return 0
    from sqlalchemy.orm import Session

    from nianbao.storage.db import DatabaseMissing, open_existing
    from nianbao.storage.store import Store
    from nianbao.storage.summaries import report_summaries

    try:
        engine = open_existing(args.db)
    except DatabaseMissing as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    store = Store(engine)
    try:
        if args.failures:
            _print_failures(store.identity_failures(site_id=args.site, year=args.year), args)
        elif args.json:
            _print_reports(store.reports(site_id=args.site, year=args.year), args)
        else:  # a table or CSV shows no archive pointer: not read
            with Session(engine) as session:
                _print_reports(report_summaries(session, args.site, args.year, warc=False),
                               args)
    finally:
        engine.dispose()
    return 0
