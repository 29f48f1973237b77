"""``nianbao stats``: the national statistic for a report year (``nianbao.checks.stats``),
as a table, JSON or CSV. It counts the stored verdicts: run ``nianbao check`` (or the
scheduler's evaluation) first."""

from __future__ import annotations

import argparse
import csv
import sys

from nianbao.commands.crawl import add_storage_arguments


def add_stats_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--year", type=int, required=True, metavar="N", help="report year")
    add_storage_arguments(parser)
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON document")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row")


def cmd_stats(args: argparse.Namespace) -> int:
    import orjson
    from sqlalchemy.exc import SQLAlchemyError

    from nianbao.checks.stats import CSV_FIELDS, csv_values, national_stats
    from nianbao.escaping import csv_row
    from nianbao.storage.db import DatabaseMissing, open_existing

    try:
        rows = national_stats(open_existing(args.db), args.year)
    except DatabaseMissing as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"nianbao: cannot read the verdicts: {type(exc).__name__}", file=sys.stderr)
        return 2
    records = [row.as_dict() for row in rows]
    if args.json:
        sys.stdout.buffer.write(orjson.dumps({"year": args.year, "rows": records},
                                             option=orjson.OPT_INDENT_2) + b"\n")
    elif args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(CSV_FIELDS)
        writer.writerows(csv_row(csv_values(r)) for r in records)
    else:
        print(f"{'province':<10}{'level':<12}" + "".join(
            f"{k:>11}" for k in ("expected", "observed", "on_time", "late", "missing",
                                  "unobserved")))
        for r in records:
            print(f"{r['province']:<10}{r['level']:<12}" + "".join(
                f"{r[k]:>11}" for k in ("expected", "observed", "on_time", "late", "missing",
                                         "unobserved")))
    return 0
