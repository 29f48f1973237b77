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

    from nianbao.checks.compliance import STATUSES
    from nianbao.checks.stats import national_stats
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
        fields = ("province", "province_name", "level", "expected", "observed", *STATUSES)
        writer = csv.writer(sys.stdout)
        writer.writerow([*fields, "days_late", "verdict_ids"])
        for r in records:
            writer.writerow([*(r[k] for k in fields),
                             "; ".join(f"{d}:{n}" for d, n in r["days_late"].items()),
                             " ".join(str(i) for ids in r["verdicts"].values() for i in ids)])
    else:
        print(f"{'province':<10}{'level':<12}" + "".join(
            f"{k:>11}" for k in ("expected", "observed", "on_time", "late", "missing",
                                  "unobserved")))
        for r in records:
            print(f"{r['province']:<10}{r['level']:<12}" + "".join(
                f"{r[k]:>11}" for k in ("expected", "observed", "on_time", "late", "missing",
                                         "unobserved")))
    return 0
