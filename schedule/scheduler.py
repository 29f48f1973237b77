"""The long-running scheduler: when each job runs, kept in the database itself.

Jobs live in an APScheduler 3 ``SQLAlchemyJobStore`` (table ``apscheduler_jobs``) in the same
database as the reports, so a restart picks up where it stopped, and a run missed while the
scheduler was down runs once (coalesce) if it is less than ``misfire_grace_seconds`` late.

The crawl cadence follows the publishers' calendar: reports are due by 31 January (and
revised through March), so each site is crawled daily in off-peak hours, and every few hours
in the weeks around the deadlines. Each site has its own minute, from a hash of its id, so
fragile county portals are not all hit at once and the time is the same after every restart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from nianbao.schedule.jobs import schedule_timezone
from nianbao.settings import settings
from nianbao.storage.db import connect

CRAWL_PREFIX = "crawl:"
# A leap year, so that a window or deadline on 02-29 is a valid date.
_REFERENCE_YEAR = 2024


def build_scheduler(db_url: str, persist: bool = True) -> BackgroundScheduler:
    """A scheduler (not started) whose jobs are stored in ``db_url``'s database.

    It is a BackgroundScheduler even for the foreground command: the caller's main thread is
    then free to wait for SIGTERM and shut down cleanly. ``persist=False`` keeps the jobs in
    memory, to show what the schedule would be without touching a running scheduler's store.
    """
    conf = settings()["schedule"]
    store = (SQLAlchemyJobStore(engine=connect(db_url), tablename="apscheduler_jobs")
             if persist else MemoryJobStore())
    return BackgroundScheduler(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(int(conf["max_concurrent_jobs"]))},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": int(conf["misfire_grace_seconds"])},
        timezone=schedule_timezone(),
    )


def stop_scheduler(scheduler: BackgroundScheduler) -> None:
    """Stop running jobs, wait for the running ones, and leave the stored jobs as they were.

    APScheduler 3.11's background thread looks for due jobs once more *after* shutdown has
    closed the executors: a job due at that moment fails to submit and its next run time is
    advanced in the store, so the run is lost (a paused scheduler included). Taking the job
    store out first (which keeps its rows) leaves that last look nothing to find.
    """
    scheduler.pause()
    for alias in list(scheduler._jobstores):  # no public way to list the aliases
        scheduler.remove_jobstore(alias)
    scheduler.shutdown(wait=True)


def site_start(site_id: str) -> tuple[int, int]:
    """(hour, minute) of a site's daily crawl: a stable spread over the off-peak hours."""
    first, last = (int(h) for h in settings()["schedule"]["offpeak_hours"])
    spread = int.from_bytes(hashlib.sha256(site_id.encode()).digest()[:4], "big")
    minutes = spread % ((last - first) * 60)
    return first + minutes // 60, minutes % 60


def _month_day(text: str) -> date:
    month, day = (int(part) for part in text.split("-"))
    return date(_REFERENCE_YEAR, month, day)


def _window_months(start: str, end: str) -> list[tuple[int, str]]:
    """(month, day range) pieces covering ``start``..``end`` (MM-DD, both included; a window
    may wrap over the new year), because one cron expression cannot span months."""
    first, last = _month_day(start), _month_day(end)
    if last < first:
        last = last.replace(year=_REFERENCE_YEAR + 1)
    pieces = []
    month_start = first
    while month_start <= last:
        next_month = (month_start.replace(day=28) + timedelta(days=4)).replace(day=1)
        month_end = min(last, next_month - timedelta(days=1))
        pieces.append((month_start.month, f"{month_start.day}-{month_end.day}"))
        month_start = next_month
    return pieces


def crawl_trigger(site_id: str) -> BaseTrigger:
    """Daily at the site's off-peak time, and every ``busy_every_hours`` in a busy window."""
    conf = settings()["schedule"]
    tz = schedule_timezone()
    hour, minute = site_start(site_id)
    every = int(conf["busy_every_hours"])
    busy_hours = ",".join(str(h) for h in sorted({(hour + k * every) % 24
                                                  for k in range(24 // every)}))
    triggers = [CronTrigger(hour=hour, minute=minute, timezone=tz)]
    for start, end in conf["busy_windows"]:
        triggers += [CronTrigger(month=month, day=days, hour=busy_hours, minute=minute,
                                 timezone=tz)
                     for month, days in _window_months(start, end)]
    return OrTrigger(triggers)


def crawl_description(site_id: str) -> str:
    """The crawl cadence in words, for ``nianbao schedule --list`` and the log."""
    conf = settings()["schedule"]
    hour, minute = site_start(site_id)
    windows = ", ".join(f"{start}..{end}" for start, end in conf["busy_windows"])
    return (f"crawl daily {hour:02d}:{minute:02d}; every {conf['busy_every_hours']} h "
            f"in {windows}")


def evaluation_trigger() -> BaseTrigger:
    """Daily after the crawls, and the morning after each deadline."""
    conf = settings()["schedule"]
    tz = schedule_timezone()
    hour, minute = (int(part) for part in conf["evaluation_time"].split(":"))
    triggers = [CronTrigger(hour=hour, minute=minute, timezone=tz)]
    for deadline in conf["deadlines"]:
        after = _month_day(deadline) + timedelta(days=1)
        triggers.append(CronTrigger(month=after.month, day=after.day,
                                    hour=int(conf["deadline_evaluation_hour"]), timezone=tz))
    return OrTrigger(triggers)


def sync_jobs(scheduler: BackgroundScheduler, sites: Iterable, db_url: str,
              archive_dir: str | None = None, sites_file: str | None = None) -> list[str]:
    """Make the stored jobs match the sites file and settings; returns the crawl job ids removed.

    The scheduler must be started (paused is fine): only then does it see the stored jobs.
    Every job is replaced, so a changed setting takes effect on the next start.
    """
    from nianbao.schedule.queue import queue_url

    conf = settings()["schedule"]
    tz = schedule_timezone()
    wanted = set()
    # With a queue (several machines), a crawl job only enqueues: the workers crawl.
    crawl = ("nianbao.schedule.queue:enqueue_crawl" if queue_url()
             else "nianbao.schedule.jobs:crawl_site")
    for site in sites:
        job_id = CRAWL_PREFIX + site.id
        wanted.add(job_id)
        scheduler.add_job(crawl, crawl_trigger(site.id), id=job_id,
                          name=crawl_description(site.id), replace_existing=True,
                          args=[site.id, db_url, archive_dir, sites_file])
    hour, minute = (int(part) for part in conf["digest_time"].split(":"))
    deadlines = ", ".join(conf["deadlines"])
    others = [
        ("evaluate", "nianbao.schedule.jobs:evaluate_deadlines", evaluation_trigger(),
         [db_url, sites_file],
         f"evaluate daily {conf['evaluation_time']}; "
         f"{int(conf['deadline_evaluation_hour']):02d}:00 the day after {deadlines}"),
        ("digests", "nianbao.schedule.jobs:send_digests",
         CronTrigger(hour=hour, minute=minute, timezone=tz),
         [db_url], f"digests daily {conf['digest_time']}"),
        ("deliveries", "nianbao.schedule.jobs:retry_deliveries",
         IntervalTrigger(minutes=int(conf["retry_minutes"]), timezone=tz), [db_url],
         f"deliver pending alerts every {conf['retry_minutes']} min"),
    ]
    if conf.get("discover_cron"):
        others.append(("discover", "nianbao.schedule.rediscover:rediscover",
                       CronTrigger.from_crontab(conf["discover_cron"], timezone=tz),
                       [db_url, sites_file],
                       f"re-discover the portal tree ({conf['discover_cron']})"))
    elif scheduler.get_job("discover"):
        scheduler.remove_job("discover")
    for job_id, function, trigger, args, name in others:
        scheduler.add_job(function, trigger, id=job_id, name=name, args=args,
                          replace_existing=True)
    removed = [job.id for job in scheduler.get_jobs()
               if job.id.startswith(CRAWL_PREFIX) and job.id not in wanted]
    for job_id in removed:
        scheduler.remove_job(job_id)
    return removed
