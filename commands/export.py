"""``nianbao export`` (long or wide form; CSV, JSON Lines, Parquet) and ``nianbao archive``
(sort the CDXJ index, write a WACZ)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nianbao.settings import archive_dir


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shape", choices=("long", "wide"),
                        help="long: one row per report × metric; wide: one row per report of "
                             "one format, one column per metric")
    parser.add_argument("--to", dest="fmt", choices=("csv", "jsonl", "parquet"), default="csv")
    parser.add_argument("-o", "--output", type=Path,
                        help="file to write (default: standard output; required for parquet)")
    parser.add_argument("--format", dest="report_format", choices=("2021", "2019"),
                        help="report format (wide form: default 2021; long form: a filter)")
    parser.add_argument("--site", help="only this site")
    parser.add_argument("--region", help="only sites of this 行政区划代码")
    parser.add_argument("--year", type=int, help="only this report year")
    parser.add_argument("--db", help="database URL (default: settings or NIANBAO_DATABASE_URL)")


def cmd_export(args: argparse.Namespace) -> int:
    from nianbao.storage.db import DatabaseMissing, open_existing
    from nianbao.storage.exports import ExportFilter, export

    if args.fmt == "parquet" and args.output is None:
        print("nianbao: --to parquet needs -o FILE", file=sys.stderr)
        return 2
    try:
        engine = open_existing(args.db)
    except DatabaseMissing as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    where = ExportFilter(args.site, args.region, args.year,
                         args.report_format if args.shape == "long" else None)
    try:
        if args.output is None:
            rows = export(engine, args.shape, args.fmt, sys.stdout.buffer, where,
                          args.report_format or "2021")
            sys.stdout.flush()
        else:
            tmp = args.output.with_name(args.output.name + ".part")
            with tmp.open("wb") as out:
                rows = export(engine, args.shape, args.fmt, out, where,
                              args.report_format or "2021")
            tmp.replace(args.output)
    finally:
        engine.dispose()
    print(f"nianbao export: {rows} rows", file=sys.stderr)
    return 0


def add_archive_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("archive", help="the WARC archive for pywb / ReplayWeb.page: "
                            "sort its CDXJ index, write a WACZ")
    actions = parser.add_subparsers(dest="action", required=True)
    index = actions.add_parser("index", help="sort index.cdxj (as pywb's indexer does)")
    wacz = actions.add_parser("wacz", help="write a WACZ of the archive")
    wacz.add_argument("output", type=Path)
    wacz.add_argument("--title", default="nianbao")
    for p in (index, wacz):
        p.add_argument("--archive", type=Path, help="WARC directory (default: settings)")
    parser.set_defaults(func=cmd_archive)


def cmd_archive(args: argparse.Namespace) -> int:
    from nianbao.archive.cdxj import CdxjIndex

    directory = args.archive or archive_dir()
    if not directory.is_dir():
        print(f"nianbao: no archive at {directory}", file=sys.stderr)
        return 2
    if args.action == "index":
        CdxjIndex(directory).sort()
        print(f"nianbao archive: {directory / 'index.cdxj'} sorted", file=sys.stderr)
        return 0
    from nianbao.archive.wacz import write_wacz

    counts = write_wacz(directory, args.output, args.title)
    print(f"nianbao archive: {args.output}: {counts['warcs']} WARC files, "
          f"{counts['index_lines']} index lines, {counts['pages']} pages", file=sys.stderr)
    return 0
