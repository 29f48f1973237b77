"""``nianbao schedule``: run the scheduler in the foreground until SIGTERM or Ctrl-C.

The process holds the database's scheduler lock for its lifetime (a second scheduler exits 3),
brings the schema up to date, makes the stored jobs match the sites file, then waits. On
SIGTERM/SIGINT it asks running crawls to stop, waits for the jobs to finish, releases the lock
and exits 0, so a service manager can restart or replace it safely.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from nianbao.commands.crawl import add_storage_arguments
from nianbao.settings import PROJECT_ROOT
from nianbao.sites import SitesError, load_sites

EXIT_LOCKED = 3


def add_schedule_arguments(parser: argparse.ArgumentParser) -> None:
    add_storage_arguments(parser)
    parser.add_argument("--sites", type=Path, default=PROJECT_ROOT / "config" / "sites.yaml",
                        metavar="FILE", help="sites file (default config/sites.yaml)")
    parser.add_argument("--archive", type=Path, metavar="DIR",
                        help="WARC directory (default from settings)")
    parser.add_argument("--list", action="store_true",
                        help="print the jobs and their next run times, and exit")


def job_lines(scheduler) -> list[str]:
    """One line per job: next run time (Beijing), id, cadence."""
    jobs = sorted(scheduler.get_jobs(), key=lambda j: (
        j.next_run_time is None, j.next_run_time.timestamp() if j.next_run_time else 0, j.id))
    return [f"{job.next_run_time:%Y-%m-%d %H:%M %Z}  {job.id:<28} {job.name}"
            if job.next_run_time else f"{'(paused)':<20}  {job.id:<28} {job.name}"
            for job in jobs]


def cmd_schedule(args: argparse.Namespace) -> int:
    from nianbao.schedule.jobs import terminate_crawls
    from nianbao.schedule.lock import SchedulerLock, SchedulerLocked, describe
    from nianbao.schedule.scheduler import build_scheduler, stop_scheduler, sync_jobs
    from nianbao.storage.db import connect, database_url, migrate

    try:
        sites = load_sites(args.sites)
    except SitesError as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return 2
    url = database_url(args.db)
    archive = str(args.archive) if args.archive else None
    sites_file = str(args.sites)
    if args.list:
        # In memory: listing must never touch the store of a scheduler that is running.
        scheduler = build_scheduler(url, persist=False)
        scheduler.start(paused=True)
        sync_jobs(scheduler, sites, url, archive, sites_file)
        print("\n".join(job_lines(scheduler)))
        scheduler.shutdown(wait=False)
        return 0

    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    lock = SchedulerLock(url)
    try:
        lock.acquire()
    except SchedulerLocked as exc:
        print(f"nianbao: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    stop = threading.Event()
    try:
        engine = connect(url)
        migrate(engine)
        engine.dispose()
        scheduler = build_scheduler(url)
        scheduler.start(paused=True)
        removed = sync_jobs(scheduler, sites, url, archive, sites_file)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        scheduler.resume()
        print("\n".join(job_lines(scheduler)))
        print(f"nianbao: scheduler started on {describe(url)}: {len(scheduler.get_jobs())} jobs"
              + (f", removed {', '.join(removed)}" if removed else ""), flush=True)
        while not stop.wait(1):
            pass
        print("nianbao: stopping: waiting for running jobs", flush=True)
        terminate_crawls()
        stop_scheduler(scheduler)
    finally:
        lock.release()
    print("nianbao: scheduler stopped", flush=True)
    return 0
