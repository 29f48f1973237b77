"""``nianbao check``: the compliance table (who published on time), readable, JSON Lines or CSV."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import unicodedata
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from nianbao.commands.crawl import add_storage_arguments
from nianbao.settings import PROJECT_ROOT
from nianbao.sites import SitesError, load_sites, select_sites

COLUMNS = ("site", "issuer", "kind", "year", "status", "deadline", "published", "evidence",
           "days_late", "warnings")


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", type=date.fromisoformat, metavar="DATE",
                        help="judge as on this day, YYYY-MM-DD (default: today, Beijing time)")
    parser.add_argument("--site", action="append", metavar="ID", help="only this site")
    parser.add_argument("--year", type=int, metavar="N", help="only this report year")
    parser.add_argument("--sites", type=Path, default=PROJECT_ROOT / "config" / "sites.yaml",
                        metavar="FILE", help="sites file (default config/sites.yaml)")
    add_storage_arguments(parser)
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object per line")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row")


def _row(verdict) -> dict:
    return {
        "site": verdict.site_id, "issuer": verdict.issuer, "kind": verdict.kind,
        "year": verdict.report_year, "status": verdict.status,
        "deadline": verdict.deadline.isoformat(),
        "published": verdict.published_date.isoformat() if verdict.published_date else "",
        "evidence": verdict.evidence,
        "days_late": "" if verdict.days_late is None else verdict.days_late,
        "warnings": "; ".join(verdict.warnings),
    }


def _width(text: str) -> int:
    """Display width: CJK characters take two terminal columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(rows: list[dict]) -> list[str]:
    shown = [c for c in COLUMNS if c != "warnings"]
    cells = [[str(r[c]) for c in shown] for r in rows]
    widths = [max([_width(c), *(_width(row[i]) for row in cells)]) for i, c in enumerate(shown)]

    def line(values: list[str]) -> str:
        return "  ".join(v + " " * (w - _width(v)) for v, w in zip(values, widths, strict=True))

    out = [line(list(shown)).rstrip()]
    for row, values in zip(rows, cells, strict=True):
        out.append(line(values).rstrip())
        if row["warnings"]:
            out.append(f"    warnings: {row['warnings']}")
    return out


def cmd_check(args: argparse.Namespace) -> int:
    from nianbao.checks.compliance import evaluate
    from nianbao.checks.deadlines import DeadlineError
    from nianbao.storage.db import connect, database_url, migrate

    try:
        sites = select_sites(load_sites(args.sites), args.site)
    except SitesError as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    as_of = args.as_of or datetime.now(ZoneInfo("Asia/Shanghai")).date()
    engine = connect(database_url(args.db))
    migrate(engine)
    try:
        verdicts = evaluate(engine, sites, as_of, year=args.year)
    except DeadlineError as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    if args.json:
        for verdict in verdicts:
            print(json.dumps({**asdict(verdict), "as_of": as_of}, ensure_ascii=False,
                             default=str))
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(_row(v) for v in verdicts)
    else:
        print(f"compliance as of {as_of}")
        print("\n".join(_table([_row(v) for v in verdicts])))
        counts = {s: sum(v.status == s for v in verdicts) for s in
                  ("on_time", "late", "missing", "pending", "undated")}
        print(", ".join(f"{n} {s}" for s, n in counts.items()))
    return 0
