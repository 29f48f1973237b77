"""``nianbao crawl``: crawl the configured portals into the database and the WARC archive."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nianbao.settings import PROJECT_ROOT, settings
from nianbao.sites import SitesError, load_sites, select_sites


def add_storage_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL",
                        help="database URL (default: NIANBAO_DATABASE_URL or settings)")


def add_crawl_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", action="append", metavar="ID", help="crawl only this site")
    parser.add_argument("--sites", type=Path, default=PROJECT_ROOT / "config" / "sites.yaml",
                        metavar="FILE", help="sites file (default config/sites.yaml)")
    add_storage_arguments(parser)
    parser.add_argument("--archive", type=Path, metavar="DIR",
                        help="WARC directory (default from settings)")
    parser.add_argument("--proxy", metavar="URL",
                        help="HTTP proxy for every fetch, Scrapy and Chromium alike")
    parser.add_argument("--allow-host", action="append", default=[], metavar="HOST",
                        help="allow this loopback/private host (e.g. a local portal)")
    parser.add_argument("--verbose", action="store_true", help="Scrapy's INFO log on stderr")


def summary_lines(run: dict, failures: list[dict]) -> list[str]:
    """The final summary: per-site counts, then failures grouped by reason."""
    from nianbao.crawler.progress import progress_lines

    stats = run.get("stats") or {}
    lines = [f"crawl run {run['id']}: {run['status']}, {len(stats)} site(s), "
             f"{run.get('bytes_received') or 0} bytes received"]
    lines += progress_lines(stats)
    reasons: dict[str, int] = {}
    for failure in failures:
        reasons[failure["reason"]] = reasons.get(failure["reason"], 0) + 1
    if reasons:
        lines.append("  failures: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())))
    return lines


def crawl(args: argparse.Namespace, sites: list | None = None) -> int:
    from nianbao.crawler.run import CrawlOptions, run_crawl
    from nianbao.storage.db import connect, database_url
    from nianbao.storage.store import Store

    sites_file = getattr(args, "sites", None) or PROJECT_ROOT / "config" / "sites.yaml"
    try:
        chosen = sites if sites is not None else select_sites(load_sites(sites_file), args.site)
    except SitesError as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    storage = settings()["storage"]
    url = database_url(args.db)
    options = CrawlOptions(
        database_url=url,
        archive_dir=args.archive or Path(storage["archive_dir"]),
        sites_file=sites_file, site_ids=[site.id for site in chosen],
        proxy=args.proxy, allowed_private_hosts=tuple(args.allow_host),
        log_level="INFO" if args.verbose else "WARNING",
    )
    run_id = run_crawl(options)
    if run_id is None:
        print("nianbao: the crawl could not start (see the log above)", file=sys.stderr)
        return 1
    store = Store(connect(url))
    run = store.run_stats(run_id)
    print("\n".join(summary_lines(run, store.failures(run_id))))
    pages = sum((s or {}).get("pages", 0) for s in (run.get("stats") or {}).values())
    return 0 if pages else 1


def cmd_crawl(args: argparse.Namespace) -> int:
    return crawl(args)
