"""``nianbao crawl``: crawl the configured portals into the database and the WARC archive."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from nianbao.settings import PROJECT_ROOT, archive_dir
from nianbao.sites import SitesError, load_sites, select_sites


def add_storage_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL",
                        help="database URL (default: NIANBAO_DATABASE_URL or settings)")


def add_crawl_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", action="append", metavar="ID", help="crawl only this site")
    parser.add_argument("--sites", type=Path, default=PROJECT_ROOT / "config" / "sites.yaml",
                        metavar="FILE", help="sites file (default config/sites.yaml)")
    add_fetch_arguments(parser)


def add_fetch_arguments(parser: argparse.ArgumentParser) -> None:
    """Where a crawl stores what it fetched, and how it reaches the portals: the options every
    command that runs the crawler shares."""
    add_storage_arguments(parser)
    parser.add_argument("--archive", type=Path, metavar="DIR",
                        help="WARC directory (default from settings)")
    parser.add_argument("--proxy", metavar="URL",
                        help="HTTP proxy for every fetch, Scrapy and Chromium alike")
    parser.add_argument("--allow-host", action="append", default=[], metavar="HOST",
                        help="allow this loopback/private host (e.g. a local portal)")
    parser.add_argument("--verbose", action="store_true", help="Scrapy's INFO log on stderr")


SITE_COLUMNS = ("pages", "new", "revised", "another_copy", "unchanged")
SHOWN_FAILURES = 20

Planted = Callable[[dict], str | None]


def nothing_planted(failure: dict) -> None:
    """A real portal plants nothing: every failure is a real one."""
    return None


def site_lines(stats: dict[str, dict], failures: list[dict], planted: Planted) -> list[str]:
    """One line per site: pages fetched, reports new / revised / copies / unchanged, and the
    failures stored for it (saying how many were planted, when a portal plants some)."""
    lines = []
    for site_id in sorted(k for k in stats if not k.startswith("_")):
        counts = stats[site_id]
        cells = " ".join(f"{key}={counts.get(key, 0)}" for key in SITE_COLUMNS)
        own = [f for f in failures if f["site_id"] == site_id]
        expected = sum(1 for f in own if planted(f))
        cells += f" failures={len(own)}" + (f" ({expected} planted)" if expected else "")
        lines.append(f"  {site_id:<22} {cells}")
    return lines


def failure_lines(failures: list[dict], planted: Planted) -> list[str]:
    """Failures by reason; when some were planted on purpose, those apart, each with what was
    planted, and the real ones listed so that nobody has to guess which is which."""
    expected = [(f, what) for f in failures if (what := planted(f))]
    real = [f for f in failures if not planted(f)]
    if not expected:
        reasons: dict[str, int] = {}
        for failure in failures:
            reasons[failure["reason"]] = reasons.get(failure["reason"], 0) + 1
        if not reasons:
            return []
        return ["  failures: " + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items()))]
    lines = [f"  failures planted on purpose (expected): {len(expected)}"]
    lines += [f"    {f['site_id']} {f['reason']}: {what} — {f['url']}" for f, what in expected]
    lines.append(f"  real failures: {len(real) or 'none'}")
    lines += [f"    {f['site_id']} {f['reason']}: {f['url']} ({f['detail']})"
              for f in real[:SHOWN_FAILURES]]
    if len(real) > SHOWN_FAILURES:
        lines.append(f"    … {len(real) - SHOWN_FAILURES} more")
    return lines


def summary_lines(run: dict, failures: list[dict], planted: Planted = nothing_planted
                  ) -> list[str]:
    """The final summary: per-site counts, then failures grouped by reason (``planted`` names
    the failures a portal causes on purpose, as the demo's does)."""
    stats = run.get("stats") or {}
    lines = [f"crawl run {run['id']}: {run['status']}, {len(stats)} site(s), "
             f"{run.get('bytes_received') or 0} bytes received"]
    lines += site_lines(stats, failures, planted)
    lines += failure_lines(failures, planted)
    return lines


class Outcome(NamedTuple):
    code: int
    failures: list[dict]


def crawl(args: argparse.Namespace, sites: list | None = None,
          planted: Planted = nothing_planted) -> Outcome:
    """Crawl, then print the summary. The exit code is 0 when the run finished, however many
    portals failed (each failure is an observation, stored with its reason); 1 when the run
    was interrupted; 2 for an unusable sites file."""
    # Scrapy's HTTP download handler, imported here, near the bottom of the stack, rather
    # than by the engine as it starts, 50 frames deep: its module builds deprecated aliases
    # with ``inspect.stack()``, which reads the source of every frame on the stack and looks
    # each up among the loaded modules (0.1 s of every crawl's start there, a third less here).
    import nianbao.crawler.handler  # noqa: F401
    from nianbao.crawler.run import CrawlFailed, CrawlOptions, run_crawl
    from nianbao.storage.db import connect, database_url
    from nianbao.storage.store import Store

    sites_file = getattr(args, "sites", None) or PROJECT_ROOT / "config" / "sites.yaml"
    try:
        chosen = sites if sites is not None else select_sites(load_sites(sites_file), args.site)
    except SitesError as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return Outcome(2, [])
    url = database_url(args.db)
    options = CrawlOptions(
        database_url=url,
        archive_dir=args.archive or archive_dir(),
        sites_file=sites_file, site_ids=[site.id for site in chosen],
        proxy=args.proxy, allowed_private_hosts=tuple(args.allow_host),
        log_level="INFO" if args.verbose else "WARNING",
    )
    from nianbao.escaping import terminal

    try:
        run_id = run_crawl(options)
    except CrawlFailed as exc:  # the reason may quote the database server: escaped
        which = "the crawl" if exc.run_id is None else f"crawl run {exc.run_id}"
        print(terminal(f"nianbao: {which} failed: {exc}"), file=sys.stderr)
        return Outcome(1, [])
    if run_id is None:
        print("nianbao: the crawl could not start (see the log above)", file=sys.stderr)
        return Outcome(1, [])
    engine = connect(url)
    try:
        store = Store(engine)
        run = store.run_stats(run_id)
        failures = store.failures(run_id)
    finally:
        engine.dispose()

    print("\n".join(terminal(line) for line in summary_lines(run, failures, planted)))
    return Outcome(0 if run["status"] == "finished" else 1, failures)


def cmd_crawl(args: argparse.Namespace) -> int:
    code = crawl(args).code
    # A crawl is the last work of its process (Scrapy's reactor cannot start twice), and what
    # it leaves behind is closed already (archive, parse workers, committed rows): nothing is
    # left for the garbage collector to find at exit, where its final pass over every object
    # of Scrapy, SQLAlchemy and the crawl took 0.3–0.7 s.
    gc.freeze()
    return code
