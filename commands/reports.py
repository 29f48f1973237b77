"""``nianbao reports``: what is stored, as a table, JSON Lines or CSV."""

from __future__ import annotations

import argparse
import csv
import json
import sys

COLUMNS = ("site", "issuer", "report_year", "format", "published_date", "date_source",
           "versions", "first_seen", "url", "failed_checks", "key_figures")


def _flat(row: dict) -> dict:
    out = {key: row.get(key) for key in COLUMNS}
    out["failed_checks"] = " ".join(row.get("failed_checks") or [])
    out["key_figures"] = " ".join(f"{k}={v}" for k, v in (row.get("key_figures") or {}).items())
    return out


def cmd_reports(args: argparse.Namespace) -> int:
    from nianbao.storage.db import connect, database_url, migrate
    from nianbao.storage.store import Store

    engine = connect(database_url(args.db))
    migrate(engine)
    rows = Store(engine).reports(site_id=args.site, year=args.year)
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False, default=str))
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(_flat(row))
    else:
        for row in rows:
            flat = _flat(row)
            failed = f"  FAILED: {flat['failed_checks']}" if flat["failed_checks"] else ""
            print(f"{flat['site']:<12} {flat['report_year']} {flat['issuer']}  "
                  f"format {flat['format']}  published {flat['published_date']} "
                  f"({flat['date_source']})  versions {flat['versions']}{failed}")
            print(f"    {flat['url']}")
            print(f"    {flat['key_figures']}")
        print(f"{len(rows)} report(s)")
    return 0
