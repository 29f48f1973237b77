"""``nianbao worker`` takes crawl jobs, and the heavy parses crawls leave, from the PostgreSQL
queue; ``nianbao enqueue`` puts one job per platform on it (what the scheduler does when a
queue is configured). See ``nianbao.schedule.queue``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from nianbao.commands.crawl import add_storage_arguments
from nianbao.settings import PROJECT_ROOT

SITES = PROJECT_ROOT / "config" / "sites.yaml"


def _queue_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--queue", metavar="URL",
                        help="the queue's PostgreSQL URL (default: NIANBAO_QUEUE_URL or "
                        "queue.url in settings)")


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    _queue_arguments(parser)
    parser.add_argument("--name", default=os.uname().nodename, help="this worker's name")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="crawl jobs run at once by this worker (default 1)")
    parser.add_argument("--until-idle", action="store_true",
                        help="stop when no job is left to take")


def add_enqueue_arguments(parser: argparse.ArgumentParser) -> None:
    _queue_arguments(parser)
    parser.add_argument("--site", action="append", metavar="ID", help="only this site")
    parser.add_argument("--sites", type=Path, default=SITES, metavar="FILE",
                        help="sites file (default config/sites.yaml)")
    add_storage_arguments(parser)
    parser.add_argument("--archive", type=Path, metavar="DIR",
                        help="WARC directory the workers write (default: each worker's own "
                        "storage.archive_dir)")


def _app(args: argparse.Namespace):
    import asyncio  # here, not at the top: ``nianbao --help`` builds this module's parsers

    from nianbao.schedule.queue import ensure_schema, make_app, queue_url

    url = args.queue or queue_url()
    if not url:
        print("nianbao: no queue configured (--queue, NIANBAO_QUEUE_URL or queue.url)",
              file=sys.stderr)
        return None
    app = make_app(url)
    asyncio.run(ensure_schema(app))
    return app


def cmd_worker(args: argparse.Namespace) -> int:
    import asyncio

    from nianbao.schedule.queue import run_worker

    app = _app(args)
    if app is None:
        return 2
    asyncio.run(run_worker(app, args.name, args.concurrency, args.until_idle))
    return 0


def cmd_enqueue(args: argparse.Namespace) -> int:
    import asyncio

    from nianbao.schedule.queue import enqueue
    from nianbao.sites import SitesError, load_sites, select_sites
    from nianbao.storage.db import database_url

    try:
        sites = select_sites(load_sites(args.sites), args.site)
    except SitesError as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    db_url = database_url(args.db)
    if db_url.startswith("sqlite"):
        print("nianbao: workers share the PostgreSQL store: give --db postgresql://… "
              "(or NIANBAO_DATABASE_URL)", file=sys.stderr)
        return 2
    app = _app(args)
    if app is None:
        return 2
    queued = asyncio.run(enqueue(app, sites, db_url, str(args.sites),
                                 str(args.archive) if args.archive else None))
    fresh = sum(1 for job in queued.values() if job is not None)
    print(f"{fresh} crawl job(s) enqueued for {len(queued)} platform(s); "
          f"{len(queued) - fresh} already queued")
    return 0
