"""``nianbao run``: the main job once, in the foreground.

Crawl the configured sites (one ``nianbao crawl`` subprocess for all of them, its summary
shown as it prints it), record the run's events, evaluate the publication deadlines (stored
when as of today), record the verdicts' events and deliver the alerts: what the scheduler does
over a day, done now.

Exit status: 0 when the job ran to its end, whatever the portals answered (an unreachable or
blocked portal is an observation: recorded, judged ``unobserved``, summarised); 1 when a stage
itself failed (the crawl recorded no finished run, or events, evaluation or delivery raised) —
the later stages still run and the failure is printed; 2 for bad arguments (an unknown site, an
unreadable sites file).
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


def _crawl_failure(engine, code: int, run_id: int | None) -> str | None:
    """Why the crawl stage itself failed, or None when it ran to its end."""
    from sqlalchemy.orm import Session

    from nianbao.storage.models import CrawlRun

    if run_id is None:
        return f"the crawl recorded no run (exit status {code})"
    with Session(engine) as session:
        status = session.get_one(CrawlRun, run_id).status
    if status != "finished":
        return f"crawl run {run_id} ended {status} (exit status {code})"
    return None


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
    failures: list[str] = []
    lines: list[str] = []

    def stage(name: str, work) -> None:
        try:
            result = work()
        except Exception as exc:  # a stage's failure is reported; the others still run
            import logging

            logging.getLogger("nianbao.run").debug("stage %s failed", name, exc_info=True)
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            return
        for item in result if isinstance(result, tuple) else (result,):
            lines.append(item.line())

    try:
        migrate(engine)
    except Exception as exc:  # an unreachable server, a read-only file: no stage can run
        print(f"nianbao: cannot open the database: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        engine.dispose()
        return 1
    try:
        before = jobs.max_run_id(engine)
        sys.stdout.flush()
        code = jobs.run_crawl_subprocess(jobs.crawl_command(
            url, args.site, str(args.sites), args.archive and str(args.archive), args.proxy),
            capture=False)
        run_id = jobs.latest_run_id(engine, after=before)
        crawl_failure = _crawl_failure(engine, code, run_id)
        if crawl_failure:
            failures.append(f"crawl: {crawl_failure}")
        lines.append(f"crawl: run {run_id}, exit status {code}")
        if run_id is not None:
            stage("events", lambda: jobs.record_run_events(engine, run_id))
        stage("compliance", lambda: jobs.evaluate(engine, sites, args.as_of or jobs.today(),
                                                  args.site))
        stage("deliveries", lambda: jobs.deliver(engine))
    finally:
        engine.dispose()
    from nianbao.escaping import terminal

    print("main job:" + (" failed" if failures else " done"))
    for line in lines:
        print("  " + terminal(line))
    for failure in failures:
        print(terminal(f"nianbao: stage failed: {failure}"), file=sys.stderr)
    return 1 if failures else 0
