"""Crawls on several machines: a job per platform on procrastinate's PostgreSQL queue.

One machine stays the default (SQLite, the APScheduler loop crawling in subprocesses). When
``queue.url`` (or ``NIANBAO_QUEUE_URL``) names a PostgreSQL database, the scheduler *enqueues*
crawls instead of running them, and ``nianbao worker`` processes on any number of machines take
them. procrastinate (MIT) was chosen over Celery or Dramatiq because PostgreSQL is already
nianbao's store at scale — no broker to run — and it has what this needs built in: job locks,
queueing locks, retries and worker heartbeats (README, "On several machines").

- **One job per platform** (``crawler/platforms.py``): all sites whose columns sit on one
  platform are crawled by one ``nianbao crawl`` process, so the platform's one-request-a-second
  budget is kept by one Scrapy slot. The job's ``lock`` is the platform key, so two jobs of one
  platform never run at once, on any machine; its ``queueing_lock`` is the platform key too, so
  a platform is queued at most once.
- **Heavy parses** (a scan to OCR, a .doc to convert: ``parse.heavy``) are jobs of their own
  on ``nianbao-parse`` (``crawler/deferred.py``): the crawl archives the document and defers
  its parse; any worker takes it. A site whose parses are still queued is judged once they are
  done (``judge_site``, retried until then), so a report still being parsed never makes a
  ``missing`` verdict.
- **A worker killed mid-crawl**: its crawl subprocess dies with it (``PR_SET_PDEATHSIG``); its
  heartbeat stops; any other worker finds the job stalled after ``queue.stalled_after_seconds``
  and puts it back (``recover_stalled``), and it runs again elsewhere. Versions are unique per
  report, URL and content (the store's constraint), so the second crawl stores no duplicate;
  the killed crawl recorded no observation, the retried one records them all.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from nianbao.crawler.deferred import PARSE_QUEUE, PARSE_TASK, libpq_url, parse_archived
from nianbao.settings import settings

if TYPE_CHECKING:
    from procrastinate import App

    from nianbao.parsers.pool import ParsePool

log = logging.getLogger("nianbao.queue")
QUEUE = "nianbao-crawl"
TASK = "nianbao.crawl_platform"
JUDGE_TASK = "nianbao.judge_site"


def queue_url() -> str | None:
    """The queue's PostgreSQL URL, or None (one machine, no queue)."""
    return os.environ.get("NIANBAO_QUEUE_URL") or (settings().get("queue") or {}).get("url")


def _conf() -> dict:
    return {"stalled_after_seconds": 30, "heartbeat_seconds": 5, "max_attempts": 3,
            **(settings().get("queue") or {})}


def make_app(url: str) -> App:
    """A procrastinate app on ``url`` with nianbao's task registered."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=libpq_url(url)))
    conf = _conf()
    attempts = procrastinate.RetryStrategy(max_attempts=int(conf["max_attempts"]), wait=5)
    app.task(name=TASK, queue=QUEUE, pass_context=True, retry=attempts)(crawl_platform)
    app.task(name=PARSE_TASK, queue=PARSE_QUEUE, pass_context=True,
             retry=attempts)(parse_document)
    # A judge waits (is retried) while its site's parses are queued, up to a crawl's length.
    wait = max(1, int(conf["heartbeat_seconds"]))
    patience = int(settings()["schedule"]["crawl_timeout_seconds"]) // wait + 1
    app.task(name=JUDGE_TASK, queue=PARSE_QUEUE, pass_context=True,
             retry=procrastinate.RetryStrategy(max_attempts=patience, wait=wait,
                                               retry_exceptions={ParsesPending}))(judge_site)
    return app


async def ensure_schema(app: App) -> None:
    """procrastinate's tables, created on first use."""
    async with app.open_async():
        if not await app.job_manager.check_connection_async():
            await app.schema_manager.apply_schema_async()


def platforms_of(sites: Iterable) -> dict[str, list[str]]:
    """Platform key → ids of the sites crawled there (by each site's first start URL)."""
    from nianbao.crawler.platforms import platform_key

    groups = settings()["fetch"].get("platform_groups") or {}
    out: dict[str, list[str]] = defaultdict(list)
    for site in sites:
        out[platform_key(site.start_urls[0], groups)].append(site.id)
    return dict(out)


async def enqueue(app: App, sites: Iterable, db_url: str, sites_file: str | None = None,
                  archive_dir: str | None = None) -> dict[str, int | None]:
    """One crawl job per platform; a platform already queued is left as it is (None)."""
    from procrastinate.exceptions import AlreadyEnqueued

    out: dict[str, int | None] = {}
    async with app.open_async():
        task = app.tasks[TASK]
        for platform, site_ids in sorted(platforms_of(sites).items()):
            try:
                out[platform] = await task.configure(lock=platform, queueing_lock=platform) \
                    .defer_async(platform=platform, site_ids=site_ids, db_url=db_url,
                                 sites_file=sites_file, archive_dir=archive_dir)
            except AlreadyEnqueued:
                out[platform] = None
    return out


def enqueue_crawl(site_id: str, db_url: str, archive_dir: str | None = None,
                  sites_file: str | None = None) -> None:
    """The scheduler's crawl job when a queue is configured: enqueue, do not crawl."""
    from nianbao.schedule.jobs import DEFAULT_SITES
    from nianbao.sites import load_sites, select_sites

    sites = select_sites(load_sites(Path(sites_file) if sites_file else DEFAULT_SITES),
                         [site_id])
    queued = asyncio.run(enqueue(make_app(queue_url() or ""), sites, db_url, sites_file,
                                 archive_dir))
    log.info("enqueued %s", queued)


def _die_with_parent() -> None:
    """In the crawl subprocess: receive SIGKILL when the worker that started it dies."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class CrawlFailed(Exception):
    """The crawl did not finish (interrupted, or could not start): the job is retried."""


async def crawl_platform(context, platform: str, site_ids: list[str], db_url: str,
                         sites_file: str | None = None, archive_dir: str | None = None) -> int:
    """Crawl one platform's sites in a subprocess, then record the run's events and judge
    those sites (as ``crawl_site`` does on one machine). Returns the crawl run's id."""
    from nianbao.schedule import jobs

    engine = jobs.connect(db_url)
    try:
        before = jobs.max_run_id(engine)
        command = jobs.crawl_command(db_url, site_ids, sites_file, archive_dir)
        log.info("%s: crawl %s (%d sites)", context.worker_name, platform, len(site_ids))
        env = dict(os.environ)
        if _conf().get("heavy_parse_jobs", True):  # heavy parses: jobs on this queue
            env["NIANBAO_PARSE_QUEUE"] = queue_url() or ""
        child = await asyncio.create_subprocess_exec(
            *command, preexec_fn=_die_with_parent, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        timeout = float(settings()["schedule"]["crawl_timeout_seconds"])
        try:
            code = await asyncio.wait_for(child.wait(), timeout)
        except (TimeoutError, asyncio.CancelledError):
            child.send_signal(signal.SIGTERM)
            await child.wait()
            raise
        run_id = jobs.latest_run_id(engine, site_ids[0], after=before)
        if code != 0 or run_id is None:
            raise CrawlFailed(f"crawl of {platform} exited {code}")
        waiting = await _parsing(context.app, site_ids)
        await asyncio.to_thread(_after_crawl, engine, run_id,
                                [s for s in site_ids if s not in waiting], sites_file)
        for site_id in sorted(waiting):
            await defer_judge(context.app, site_id, db_url, sites_file)
        return run_id
    finally:
        engine.dispose()


def _after_crawl(engine, run_id: int, site_ids: list[str], sites_file: str | None) -> None:
    """The run's events; the verdicts of ``site_ids`` as of today; immediate alerts."""
    from nianbao.schedule import jobs
    from nianbao.sites import load_sites

    jobs.record_run_events(engine, run_id)
    if site_ids:
        sites = load_sites(Path(sites_file) if sites_file else jobs.DEFAULT_SITES)
        jobs.evaluate(engine, sites, jobs.today(), site_ids)
    jobs.deliver(engine)


# --- heavy parses, and judging a site once they are done ------------------------------------


class ParsesPending(Exception):
    """A site's parse jobs are still queued or running: judge it later (the job is retried)."""


_pool: ParsePool | None = None


def _parse_pool() -> ParsePool:
    """This worker's parse pool (``parse`` settings' limits), started at its first parse."""
    global _pool
    if _pool is None:
        from nianbao.parsers.pool import ParsePool

        _pool = ParsePool.from_settings(settings()["parse"])
    return _pool


def _close_parse_pool() -> None:
    global _pool
    if _pool is not None:
        _pool.close()
        _pool = None


async def parse_document(context, **job) -> str:
    """Parse one heavy document from the archive and store it (``crawler/deferred.py``);
    then its site is judged once no other parse of it is pending."""
    from nianbao.schedule import jobs
    from nianbao.storage.store import Store

    engine = jobs.connect(job["db_url"])
    try:
        log.info("%s: parse %s (%s)", context.worker_name, job["url"], job["reason"])
        outcome = await asyncio.to_thread(parse_archived, job, _parse_pool(), Store(engine))
    finally:
        engine.dispose()
    await defer_judge(context.app, job["site_id"], job["db_url"], job.get("sites_file"))
    return outcome


async def _parsing(app: App, site_ids: list[str]) -> set[str]:
    """Which of ``site_ids`` have parse jobs queued or running."""
    rows = await app.connector.execute_query_all_async(
        "SELECT DISTINCT args->>'site_id' AS site FROM procrastinate_jobs "
        "WHERE task_name = %(task)s AND status IN ('todo', 'doing') "
        "AND args->>'site_id' = ANY(%(sites)s)", task=PARSE_TASK, sites=list(site_ids))
    return {row["site"] for row in rows}


async def defer_judge(app: App, site_id: str, db_url: str, sites_file: str | None) -> None:
    """Queue the judging of one site (one at a time per site: its ``lock``)."""
    await app.configure_task(JUDGE_TASK, queue=PARSE_QUEUE, lock=f"judge:{site_id}").defer_async(
        site_id=site_id, db_url=db_url, sites_file=sites_file)


async def judge_site(context, site_id: str, db_url: str, sites_file: str | None) -> str:
    """The site's verdicts as of today and their alerts, once none of its parses is pending
    (until then ``ParsesPending``: procrastinate runs the job again after a heartbeat)."""
    from nianbao.schedule import jobs
    from nianbao.sites import load_sites

    if await _parsing(context.app, [site_id]):
        raise ParsesPending(site_id)
    sites = load_sites(Path(sites_file) if sites_file else jobs.DEFAULT_SITES)
    if not any(site.id == site_id for site in sites):
        return "not in the sites file"
    engine = jobs.connect(db_url)
    try:
        judged, _ = await asyncio.to_thread(jobs.evaluate, engine, sites, jobs.today(),
                                            [site_id])
        await asyncio.to_thread(jobs.deliver, engine)
    finally:
        engine.dispose()
    return str(judged.result)


async def recover_stalled(app: App, seconds: float) -> list[int]:
    """Put back the jobs of workers silent for ``seconds`` (killed, or cut off): they run
    again on a live worker."""
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds)
    for job in stalled:
        log.warning("job %s (%s) stalled: retrying it", job.id, job.task_kwargs.get("platform"))
        await app.job_manager.retry_job(job)
    await app.job_manager.prune_stalled_workers(seconds)
    return [job.id for job in stalled if job.id is not None]


async def run_worker(app: App, name: str, concurrency: int = 1,
                     until_idle: bool = False) -> None:
    """Take crawl jobs until stopped (SIGTERM/SIGINT), or with ``until_idle`` until the queue
    has no job left to take; meanwhile look for stalled jobs every heartbeat."""
    conf = _conf()
    stalled_after = float(conf["stalled_after_seconds"])
    heartbeat = float(conf["heartbeat_seconds"])

    async def watch() -> None:
        while True:
            try:
                await recover_stalled(app, stalled_after)
            except Exception:  # a failed look is tried again at the next heartbeat
                log.exception("looking for stalled jobs failed")
            await asyncio.sleep(heartbeat)

    async with app.open_async():
        watcher = asyncio.create_task(watch())
        try:
            await app.run_worker_async(
                queues=[QUEUE, PARSE_QUEUE], name=name, concurrency=concurrency,
                wait=not until_idle, update_heartbeat_interval=heartbeat,
                stalled_worker_timeout=stalled_after)
        finally:
            watcher.cancel()
            _close_parse_pool()
