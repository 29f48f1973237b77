"""The scheduler's jobs, and the stages of the main job they share with ``nianbao run``.

APScheduler 3 stores a job as a pickled reference (``nianbao.schedule.jobs:crawl_site``) plus its
arguments, so every job here is a module-level function taking plain data (ids, URLs, paths):
a stored job must still resolve after a restart and an upgrade.

A crawl always runs as a ``nianbao crawl`` subprocess: Scrapy's reactor cannot be restarted in
one process, and a crawl that hangs or leaks memory must not take the scheduler with it. The
later stages (compliance, events, alerts) run in the scheduler's own process.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select

from nianbao.checks import compliance
from nianbao.notify import alerts, events
from nianbao.settings import PROJECT_ROOT, settings
from nianbao.storage.db import connect
from nianbao.storage.models import CrawlRun

log = logging.getLogger("nianbao.schedule")
DEFAULT_SITES = PROJECT_ROOT / "config" / "sites.yaml"

_children: set[subprocess.Popen] = set()
_children_lock = threading.Lock()


@dataclass(frozen=True)
class Stage:
    """What one stage of the main job did, for its summary line and the log."""

    name: str
    result: Any

    def line(self) -> str:
        return f"{self.name}: {self.result}"


def _stage(name: str, result: Any) -> Stage:
    log.info("%s: %s", name, result)
    return Stage(name, result)


def schedule_timezone() -> ZoneInfo:
    return ZoneInfo(settings()["schedule"]["timezone"])


def today() -> date:
    """Today in Beijing: deadlines and digests follow the publishers' calendar."""
    return datetime.now(schedule_timezone()).date()


def latest_run_id(engine: Engine, site_id: str | None = None, after: int = 0) -> int | None:
    """The newest crawl run (covering ``site_id`` when given) with an id above ``after``."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(CrawlRun.id, CrawlRun.sites).where(CrawlRun.id > after)
            .order_by(CrawlRun.id.desc())).all()
    for run_id, sites in rows:
        if site_id is None or site_id in (sites or []):
            return run_id
    return None


def max_run_id(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.max(CrawlRun.id))).scalar() or 0


def crawl_command(db_url: str, site_ids: list[str] | None = None, sites_file: str | None = None,
                  archive_dir: str | None = None, proxy: str | None = None) -> list[str]:
    """The ``nianbao crawl`` command line for these sites."""
    command = [sys.executable, "-m", "nianbao.commands.cli", "crawl", "--db", db_url]
    for site_id in site_ids or []:
        command += ["--site", site_id]
    if sites_file:
        command += ["--sites", str(sites_file)]
    if archive_dir:
        command += ["--archive", str(archive_dir)]
    if proxy:
        command += ["--proxy", proxy]
    return command


def run_crawl_subprocess(command: list[str], timeout: float | None = None,
                         capture: bool = True, label: str = "crawl") -> int:
    """Run a crawl to its end and return its exit code. Captured output goes to the log line
    by line as the crawl writes it (its progress heartbeats included), not only at the end.
    Past ``timeout`` it gets SIGTERM (Scrapy stops gracefully and the run is recorded), then
    SIGKILL after the configured grace."""
    conf = settings()["schedule"]
    pipe = subprocess.PIPE if capture else None
    child = subprocess.Popen(command, stdout=pipe, stderr=subprocess.STDOUT if capture else None,
                             text=True, encoding="utf-8", errors="replace")
    reader = threading.Thread(target=_log_lines, args=(child, label), daemon=True)
    if capture:
        reader.start()
    with _children_lock:
        _children.add(child)
    try:
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.error("crawl timed out after %ss: stopping it: %s", timeout, " ".join(command))
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=float(conf["crawl_stop_grace_seconds"]))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    finally:
        with _children_lock:
            _children.discard(child)
    if capture:
        reader.join()
    return child.returncode


def _log_lines(child: subprocess.Popen, label: str) -> None:
    for line in child.stdout:
        log.info("%s: %s", label, line.rstrip())


def terminate_crawls() -> int:
    """Ask every running crawl subprocess to stop (SIGTERM), so a scheduler shutting down waits
    for graceful crawl stops rather than whole crawls. Returns how many were asked."""
    with _children_lock:
        running = [c for c in _children if c.poll() is None]
    for child in running:
        child.send_signal(signal.SIGTERM)
    return len(running)


def record_run_events(engine: Engine, run_id: int | None) -> Stage:
    if run_id is None:
        return Stage("events", "no crawl run was recorded")
    return _stage("events", events.record_run_events(engine, run_id))


def deliver(engine: Engine) -> Stage:
    return _stage("deliveries", alerts.deliver_pending(engine, datetime.now(UTC)))


def evaluate(engine: Engine, sites: list, as_of: date,
             site_ids: list[str] | None = None) -> tuple[Stage, Stage]:
    """Compliance verdicts as of ``as_of``, then their events: (verdicts, verdict events)."""
    verdicts = compliance.evaluate(engine, sites, as_of, site_ids=site_ids)
    judged = _stage("compliance", f"{len(verdicts)} verdicts as of {as_of}")
    return judged, _stage("verdict events", events.record_verdict_events(engine, verdicts))


# --- the jobs -------------------------------------------------------------------------------


def crawl_site(site_id: str, db_url: str, archive_dir: str | None = None,
               sites_file: str | None = None) -> None:
    """Crawl one site in a subprocess, record the new run's events, deliver immediate alerts."""
    engine = connect(db_url)
    try:
        before = max_run_id(engine)
        timeout = float(settings()["schedule"]["crawl_timeout_seconds"])
        code = run_crawl_subprocess(
            crawl_command(db_url, [site_id], sites_file, archive_dir), timeout,
            label=f"crawl {site_id}")
        log.info("crawl %s exited %s", site_id, code)
        record_run_events(engine, latest_run_id(engine, site_id, after=before))
        deliver(engine)
    finally:
        engine.dispose()


def evaluate_deadlines(db_url: str, sites_file: str | None = None) -> None:
    """Compliance as of today in Beijing, its events, and the alerts they raise."""
    from nianbao.sites import load_sites

    engine = connect(db_url)
    try:
        evaluate(engine, load_sites(Path(sites_file) if sites_file else DEFAULT_SITES), today())
        deliver(engine)
    finally:
        engine.dispose()


def send_digests(db_url: str) -> None:
    """The daily digests, for the day ``schedule.digest_day`` names (yesterday or today)."""
    day = today()
    if settings()["schedule"]["digest_day"] == "yesterday":
        day -= timedelta(days=1)
    engine = connect(db_url)
    try:
        _stage("digests", alerts.send_digests(engine, day, datetime.now(UTC)))
    finally:
        engine.dispose()


def retry_deliveries(db_url: str) -> None:
    """Deliver what is pending; nianbao.notify.alerts decides which failed sends are due again."""
    engine = connect(db_url)
    try:
        deliver(engine)
    finally:
        engine.dispose()
