"""Four ``nianbao worker`` processes crawl the replica nation from the PostgreSQL queue; one is
killed mid-crawl; ``nianbao stats`` then adds up the verdicts the workers' crawls led to.

The workers are real processes on the real PostgreSQL (procrastinate's tables and nianbao's in
one schema of their own); the nation is served over HTTP by tests/mockserver/nation.py. Each
worker has its own settings (its User-Agent and vantage label name it), so the nation's request
log shows which worker asked for what, and when.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from itertools import pairwise
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select, text

from nianbao.crawler.platforms import platform_key
from nianbao.storage.db import connect, migrate
from nianbao.storage.models import Observation, VerdictRow, Version
from tests.conftest import postgres_schema
from tests.mockserver.nation import Nation
from tests.workers import job_states, start_worker, stop_workers, worker_settings

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 4


@pytest.fixture
def pg_schema():
    with postgres_schema("nianbao_w") as url:
        yield url


def nianbao(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nianbao.commands.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, env=env, **kwargs)


def test_four_workers_crawl_the_nation_one_killed(tmp_path, pg_schema):
    engine = connect(pg_schema)
    migrate(engine)
    with Nation() as nation:
        sites = tmp_path / "sites.yaml"
        entries = nation.site_entries()
        sites.write_text(yaml.safe_dump({"sites": entries}, allow_unicode=True), encoding="utf-8")
        base = {**os.environ, "NIANBAO_PROXY": nation.proxy_url, "NIANBAO_QUEUE_URL": pg_schema}
        done = nianbao("enqueue", "--sites", str(sites), "--db", pg_schema,
                       "--archive", str(tmp_path / "warc"),
                       env={**base, "NIANBAO_SETTINGS": str(worker_settings(tmp_path, "q"))})
        assert done.returncode == 0, done.stderr[-2000:]
        platforms = {platform_key(e["columns"][0]["url"]) for e in entries}
        assert f"{len(platforms)} crawl job(s) enqueued" in done.stdout

        workers = {}
        for n in range(WORKERS):
            name = f"w{n}"
            workers[name] = start_worker(tmp_path, name,
                                         {**base, "NIANBAO_VANTAGE": f"vantage-{name}"})
        try:
            # Kill the first worker seen crawling, in the middle of its crawl.
            victim = None
            deadline = time.time() + 120
            while victim is None and time.time() < deadline:
                agents = Counter(hit.agent for hit in nation.log())
                victim = next((name for name in workers
                               if agents[f"nianbao-test/{name}"] >= 3), None)
                time.sleep(0.05)
            assert victim is not None, "no worker started crawling"
            killed_at = time.time()
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()
            deadline = time.time() + 900
            while time.time() < deadline:
                states = job_states(engine)
                if states.get("succeeded") == len(platforms):
                    break
                assert not states.get("failed"), states
                time.sleep(1)
            assert job_states(engine) == Counter(succeeded=len(platforms))
        finally:
            stop_workers(workers)
        hits = nation.log()

    # The victim's job ran again elsewhere: its platform was asked for by the victim until it
    # died, then by another worker.
    victim_agent = f"nianbao-test/{victim}"
    cut = [h for h in hits if h.agent == victim_agent]
    assert cut and all(h.start <= killed_at + 0.5 for h in cut)
    cut_platform = platform_key(cut[-1].host)
    after = {h.agent for h in hits if platform_key(h.host) == cut_platform
             and h.start > killed_at + 0.5}
    assert after and victim_agent not in after
    with engine.connect() as c:
        attempts = c.execute(text(
            "SELECT attempts FROM procrastinate_jobs WHERE lock = :p"), {"p": cut_platform}
        ).scalar()
    assert attempts >= 2

    # No platform was crawled by two workers at once.
    spans: dict[str, dict[str, list[float]]] = defaultdict(dict)
    for h in hits:
        span = spans[platform_key(h.host)].setdefault(h.agent, [h.start, h.end])
        span[0], span[1] = min(span[0], h.start), max(span[1], h.end)
    for platform, by_agent in spans.items():
        ordered = sorted(by_agent.values())
        for (_, end), (start, _) in pairwise(ordered):
            assert end <= start, f"{platform} crawled by two workers at once: {by_agent}"

    # No duplicate versions: one per report the nation publishes on the crawled sites.
    published = sum(1 for gov in nation.govs if gov.trouble is None
                    for body in gov.bodies() if gov.published(body) is not None)
    with engine.connect() as c:
        versions = c.execute(select(func.count()).select_from(Version)).scalar()
        dupes = c.execute(select(Version.url).group_by(Version.url)
                          .having(func.count() > 1)).all()
        vantages = set(c.execute(select(Observation.vantage)).scalars())
        complete = c.execute(select(func.count(func.distinct(Observation.site_id)))
                             .where(Observation.complete.is_(True))).scalar()
    assert dupes == []
    assert versions == published
    assert complete == len(entries)  # every site observed completely: nothing lost
    # each observation names the worker (vantage) that made it
    assert vantages <= {f"vantage-w{n}" for n in range(WORKERS)} and len(vantages) >= 2

    # nianbao stats adds up the verdicts, per province and level.
    env = {**os.environ}
    check = nianbao("check", "--sites", str(sites), "--db", pg_schema, "--year", "2023",
                    "--json", env=env)
    assert check.returncode == 0, check.stderr[-2000:]
    done = nianbao("stats", "--db", pg_schema, "--year", "2023", "--json", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    stats = json.loads(done.stdout)
    with engine.connect() as c:
        rows = c.execute(select(VerdictRow.id, VerdictRow.site_id, VerdictRow.status,
                                VerdictRow.days_late).where(VerdictRow.report_year == 2023)
                         ).all()
    level = {e["id"]: ("province" if e["region"].endswith("0000") else "prefecture"
                       if e["region"].endswith("00") else "county") for e in entries}
    want: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for _, site_id, status, _ in rows:
        key = (site_id[1:3] + "0000", level[site_id])
        want[key]["expected"] += 1
        want[key][status] += 1
    got = {(r["province"], r["level"]): r for r in stats["rows"]}
    assert set(got) == set(want)
    for key, counts in want.items():
        for status in ("expected", "on_time", "late", "missing", "unobserved"):
            assert got[key][status] == counts[status], (key, status)
        ids = {v for ids in got[key]["verdicts"].values() for v in ids}
        assert len(ids) == counts["expected"]
    assert sum(r["late"] for r in stats["rows"]) > 0
    assert sum(r["missing"] for r in stats["rows"]) > 0
    late_days = sorted(d for _, _, status, d in rows if status == "late")
    assert sorted(int(d) for r in stats["rows"] for d, n in r["days_late"].items()
                  for _ in range(n)) == late_days
    csv_done = nianbao("stats", "--db", pg_schema, "--year", "2023", "--csv", env=env)
    table = list(csv.DictReader(io.StringIO(csv_done.stdout)))
    assert {(r["province"], r["level"]) for r in table} == set(want)


def test_with_a_queue_the_scheduler_enqueues_one_job_per_platform(tmp_path, pg_schema,
                                                                  monkeypatch):
    from nianbao.schedule.queue import enqueue_crawl
    from nianbao.schedule.scheduler import build_scheduler, stop_scheduler, sync_jobs
    from nianbao.sites import load_sites

    monkeypatch.setenv("NIANBAO_QUEUE_URL", pg_schema)
    sites = tmp_path / "sites.yaml"
    sites.write_text(yaml.safe_dump({"sites": [
        {"id": i, "name": f"测试{i}", "domains": ["shared.gov.cn"],
         "columns": [f"http://{i}.shared.gov.cn/zfxxgknb/"]} for i in ("alpha", "beta")]},
        allow_unicode=True), encoding="utf-8")
    scheduler = build_scheduler(pg_schema)
    scheduler.start(paused=True)
    try:
        sync_jobs(scheduler, load_sites(sites), pg_schema, sites_file=str(sites))
        job = scheduler.get_job("crawl:alpha")
        assert job.func_ref == "nianbao.schedule.queue:enqueue_crawl"
    finally:
        stop_scheduler(scheduler)
    done = nianbao("enqueue", "--sites", str(sites), "--db", pg_schema,
                   env={**os.environ, "NIANBAO_QUEUE_URL": pg_schema})  # creates the schema
    assert "1 crawl job(s) enqueued for 1 platform(s)" in done.stdout, done.stderr[-2000:]
    enqueue_crawl("alpha", pg_schema, sites_file=str(sites))  # shared.gov.cn: already queued
    enqueue_crawl("beta", pg_schema, sites_file=str(sites))
    with connect(pg_schema).connect() as c:
        jobs = c.execute(text("SELECT lock, queueing_lock, args FROM procrastinate_jobs")).all()
    assert [(lock, queueing) for lock, queueing, _ in jobs] == [("shared.gov.cn",) * 2]
    assert jobs[0][2]["site_ids"] == ["alpha", "beta"]
