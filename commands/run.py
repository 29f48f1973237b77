"""``nianbao run``: the main job once, in the foreground.

Crawl the configured sites (one ``nianbao crawl`` subprocess for all of them, its summary
shown as it prints it), record the run's events, evaluate the publication deadlines, record
the verdicts' events and deliver the alerts: what the scheduler does over a day, done now.
Portals that cannot be reached are observations, not errors: the job exits 0 when it ran.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from nianbao.commands.crawl import add_storage_arguments
from nianbao.settings import PROJECT_ROOT
from nianbao.sites import SitesError, load_sites, select_sites


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    add_storage_arguments(parser)
    parser.add_argument("--sites", type=Path, default=PROJECT_ROOT / "config" / "sites.yaml",
                        metavar="FILE", help="sites file (default config/sites.yaml)")
    parser.add_argument("--site", action="append", metavar="ID", help="only this site")
    parser.add_argument("--archive", type=Path, metavar="DIR",
                        help="WARC directory (default from settings)")
    parser.add_argument("--proxy", metavar="URL",
                        help="HTTP proxy for every fetch, Scrapy and Chromium alike")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, metavar="DATE",
                        help="evaluate deadlines as of this day (default: today, Beijing time)")


def cmd_run(args: argparse.Namespace) -> int:
    from nianbao.schedule import jobs
    from nianbao.storage.db import connect, database_url, migrate

    try:
        sites = load_sites(args.sites)
        select_sites(sites, args.site)  # an unknown --site is an error before anything runs
    except SitesError as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    url = database_url(args.db)
    engine = connect(url)
    try:
        migrate(engine)
        before = jobs.max_run_id(engine)
        sys.stdout.flush()
        code = jobs.run_crawl_subprocess(jobs.crawl_command(
            url, args.site, str(args.sites), args.archive and str(args.archive), args.proxy),
            capture=False)
        run_id = jobs.latest_run_id(engine, after=before)
        stages = [jobs.record_run_events(engine, run_id),
                  *jobs.evaluate(engine, sites, args.as_of or jobs.today(), args.site),
                  jobs.deliver(engine)]
    finally:
        engine.dispose()
    print(f"main job: crawl exited {code}" + (f" (run {run_id})" if run_id else ""))
    for stage in stages:
        print("  " + stage.line())
    return code
