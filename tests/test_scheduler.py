"""The scheduler on real SQLite and PostgreSQL databases (``db_url`` from conftest: a fresh
file, or a fresh schema): stored jobs survive a restart, one scheduler per database, sites
added and removed, busier crawls around the deadlines, misfires coalesced, and a graceful
SIGTERM. Jobs that would crawl are never run here; the misfire test runs a probe job
(tests/scheduler_probe.py) that appends a line to a file.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import inspect

from nianbao.schedule.lock import SchedulerLock, SchedulerLocked, describe
from nianbao.schedule.scheduler import (
    build_scheduler,
    crawl_trigger,
    evaluation_trigger,
    stop_scheduler,
    sync_jobs,
)
from nianbao.sites import load_sites
from nianbao.storage.db import connect
from tests.conftest import ROOT

NIANBAO = [sys.executable, "-m", "nianbao.commands.cli"]
TZ = ZoneInfo("Asia/Shanghai")


def write_sites(path: Path, ids: list[str]) -> Path:
    entries = "".join(f"  - id: {i}\n    name: 测试站点{i}\n    homepage: https://{i}.gov.cn/\n"
                      f"    domains: [{i}.gov.cn]\n" for i in ids)
    path.write_text("sites:\n" + entries, encoding="utf-8")
    return path


def started(db_url: str):
    """A scheduler on ``db_url`` that sees its stored jobs but runs none (paused)."""
    scheduler = build_scheduler(db_url)
    scheduler.start(paused=True)
    return scheduler


def next_runs(scheduler) -> dict[str, datetime]:
    return {job.id: job.next_run_time for job in scheduler.get_jobs()}


def test_jobs_persist_in_the_database_and_survive_a_restart(db_url, tmp_path):
    sites = load_sites(write_sites(tmp_path / "sites.yaml", ["alpha", "beta"]))
    first = started(db_url)
    sync_jobs(first, sites, db_url)
    before = next_runs(first)
    stop_scheduler(first)
    assert set(before) == {"crawl:alpha", "crawl:beta", "evaluate", "digests", "deliveries",
                           "discover"}

    engine = connect(db_url)
    assert "apscheduler_jobs" in inspect(engine).get_table_names()
    engine.dispose()

    second = started(db_url)
    try:
        assert next_runs(second) == before
        job = second.get_job("crawl:alpha")
        assert (job.func_ref, job.args[:2]) == ("nianbao.schedule.jobs:crawl_site",
                                                ("alpha", db_url))
    finally:
        stop_scheduler(second)


def test_sync_jobs_follows_the_sites_file(db_url, tmp_path):
    scheduler = started(db_url)
    try:
        before = load_sites(write_sites(tmp_path / "a.yaml", ["a", "b", "c"]))
        after = load_sites(write_sites(tmp_path / "b.yaml", ["a", "c", "d"]))
        sync_jobs(scheduler, before, db_url)
        removed = sync_jobs(scheduler, after, db_url)
        crawls = sorted(j.id for j in scheduler.get_jobs() if j.id.startswith("crawl:"))
    finally:
        stop_scheduler(scheduler)
    assert removed == ["crawl:b"]
    assert crawls == ["crawl:a", "crawl:c", "crawl:d"]


def day(year: int, month: int, day_of_month: int) -> datetime:
    """Midnight in Beijing."""
    return datetime(year, month, day_of_month, tzinfo=TZ)


def fire_times(trigger, start: datetime, end: datetime) -> list[datetime]:
    times, previous, now = [], None, start
    while (fire := trigger.get_next_fire_time(previous, now)) and fire < end:
        times.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)
    return times


def test_crawls_are_denser_in_the_weeks_around_the_deadlines():
    trigger = crawl_trigger("jccq")
    outside = fire_times(trigger, day(2027, 11, 1), day(2027, 11, 11))
    january = fire_times(trigger, day(2027, 1, 20), day(2027, 1, 30))
    march = fire_times(trigger, day(2027, 3, 25), day(2027, 4, 4))
    assert len(outside) == 10, outside  # daily
    assert len(january) == len(march) == 40  # every 6 hours
    assert len({(t.hour, t.minute) for t in outside}) == 1
    assert 1 <= outside[0].hour < 5  # off-peak
    # The window ends with its last day: from 02-11 the cadence is daily again.
    assert len(fire_times(trigger, day(2027, 2, 11), day(2027, 2, 21))) == 10


def test_deadlines_are_evaluated_the_morning_after_and_daily():
    times = fire_times(evaluation_trigger(), day(2027, 1, 31), day(2027, 2, 2))
    assert datetime(2027, 2, 1, 9, tzinfo=TZ) in times
    assert len(times) == 3  # 01-31 and 02-01 daily, plus 02-01 09:00


def test_a_second_scheduler_on_the_same_database_refuses(db_url, tmp_path):
    sites = write_sites(tmp_path / "sites.yaml", ["alpha"])
    with SchedulerLock(db_url):
        with pytest.raises(SchedulerLocked):
            SchedulerLock(db_url).acquire()
        second = subprocess.run([*NIANBAO, "schedule", "--db", db_url, "--sites", str(sites)],
                                cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert second.returncode == 3, second.stderr
    assert "another scheduler is already running on" in second.stderr
    assert describe(db_url) in second.stderr
    with SchedulerLock(db_url):  # released: the next one may start
        pass


def test_a_misfired_job_runs_once_not_once_per_missed_time(db_url, tmp_path):
    coalesced, every = tmp_path / "coalesced.txt", tmp_path / "every.txt"
    now = datetime.now(TZ)
    hourly = IntervalTrigger(hours=1, start_date=now - timedelta(hours=5, minutes=30), timezone=TZ)
    first = started(db_url)
    for job_id, path, coalesce in (("probe-coalesced", coalesced, True),
                                   ("probe-every", every, False)):
        first.add_job("tests.scheduler_probe:append_line", hourly, id=job_id, coalesce=coalesce,
                      args=[str(path), job_id], next_run_time=hourly.start_date,
                      misfire_grace_time=6 * 3600)
    stop_scheduler(first)  # the scheduler was "down" for the six run times since then

    second = build_scheduler(db_url)
    second.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (
            coalesced.exists() and every.exists() and len(every.read_text().splitlines()) >= 6):
        time.sleep(0.2)
    time.sleep(1)  # a duplicate run would have happened by now
    next_run = second.get_job("probe-coalesced").next_run_time
    stop_scheduler(second)
    assert len(coalesced.read_text().splitlines()) == 1
    assert len(every.read_text().splitlines()) == 6  # the contrast: without coalescing
    assert next_run > now


def read_until(process: subprocess.Popen, marker: str, timeout: float) -> str:
    """Lines of ``process``'s output up to the one containing ``marker`` (or the end). A thread
    reads the lines: ``select`` on the pipe would miss lines already in the reader's buffer."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in iter(process.stdout.readline, ""):
            lines.put(line)
            if marker in line:
                return
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    seen = ""
    deadline = time.monotonic() + timeout
    while marker not in seen and (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if not line:
            break
        seen += line
    return seen


def test_sigterm_stops_the_scheduler_gracefully_and_releases_the_lock(db_url, tmp_path):
    sites = write_sites(tmp_path / "sites.yaml", ["alpha", "beta"])
    process = subprocess.Popen([*NIANBAO, "schedule", "--db", db_url, "--sites", str(sites)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        output = read_until(process, "scheduler started", 120)
        assert "scheduler started" in output, output
        assert "crawl:alpha" in output and "crawl:beta" in output
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output + rest
    assert "scheduler stopped" in rest
    with SchedulerLock(db_url):
        pass
    engine = connect(db_url)
    assert "apscheduler_jobs" in inspect(engine).get_table_names()
    engine.dispose()


def test_a_scheduled_crawls_output_reaches_the_log_as_it_is_written(caplog):
    """Its heartbeat lines show the crawl is alive while it runs, not after it has ended."""
    from nianbao.schedule.jobs import run_crawl_subprocess

    script = "import time; print('first', flush=True); time.sleep(2); print('second')"
    with caplog.at_level("INFO", logger="nianbao.schedule"):
        code = run_crawl_subprocess([sys.executable, "-c", script], timeout=60, label="crawl x")
        ended = time.time()
    assert code == 0
    first, second = (r for r in caplog.records if r.getMessage().startswith("crawl x: "))
    assert (first.getMessage(), second.getMessage()) == ("crawl x: first", "crawl x: second")
    assert first.created < ended - 1.5


def test_a_crawl_past_its_timeout_is_stopped():
    from nianbao.schedule.jobs import run_crawl_subprocess

    script = "import time; print('started', flush=True); time.sleep(60)"
    started = time.monotonic()
    code = run_crawl_subprocess([sys.executable, "-c", script], timeout=1, label="crawl y")
    assert code == -signal.SIGTERM and time.monotonic() - started < 30
