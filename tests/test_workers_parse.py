"""Heavy parses as queue jobs of their own: a worker's crawl archives a scanned PDF and a .doc
and defers their parse; a worker is killed in the middle of the OCR and the job completes on
another; each report is stored once, and its site judged once its parses are done.

Real parts throughout: ``nianbao worker`` processes on the real PostgreSQL, the replica nation
over HTTP (tests/mockserver/nation.py, with its first two governments publishing a scan and a
Word 97 file), LibreOffice and the OCR engine in the parse workers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select, text

from nianbao.crawler.deferred import PARSE_TASK, parse_archived
from nianbao.parsers.pool import ParsePool
from nianbao.parsers.weight import HeavyDocument, HeavyRules
from nianbao.settings import settings
from nianbao.storage.db import connect, migrate
from nianbao.storage.models import CrawlRun, VerdictRow, Version
from nianbao.storage.store import Store
from tests.conftest import postgres_schema
from tests.mockserver.nation import Nation
from tests.workers import job_states, start_worker, stop_workers, worker_settings

ROOT = Path(__file__).resolve().parents[1]


def parse_jobs(engine) -> list:
    with engine.connect() as c:
        return c.execute(text(
            "SELECT id, status::text AS status, attempts, args FROM procrastinate_jobs "
            "WHERE task_name = :t ORDER BY id"), {"t": PARSE_TASK}).all()


@pytest.fixture(scope="module")
def heavy_nation():
    nation = Nation(("330000",), per_level=1, heavy=("scan", "doc"))
    assert sorted(nation.heavy.values()) == ["doc", "scan"]
    return nation


def test_the_pool_weighs_before_it_parses(heavy_nation):
    rules = HeavyRules.from_settings(settings()["parse"])
    with ParsePool.from_settings({**settings()["parse"], "workers": 1}) as pool:
        for url, kind in heavy_nation.heavy.items():
            with pytest.raises(HeavyDocument) as heavy:
                pool.parse(heavy_nation.pages[url][2], url, None, [], rules)
            assert heavy.value.reason.startswith({"scan": "ocr:", "doc": "conversion:"}[kind])
        page = next(u for u in heavy_nation.pages if "/t2024" in u and u.endswith(".html")
                    and b"<table" in heavy_nation.pages[u][2])
        record = pool.parse(heavy_nation.pages[page][2], page, "text/html; charset=utf-8",
                            [], rules)
        assert record["report_year"] == 2023  # light: parsed at once


def test_heavy_parses_are_jobs_any_worker_takes(tmp_path, heavy_nation):
    with postgres_schema("nianbao_wp") as url, heavy_nation as nation:
        engine = connect(url)
        migrate(engine)
        sites = tmp_path / "sites.yaml"
        entries = nation.site_entries()
        sites.write_text(yaml.safe_dump({"sites": entries}, allow_unicode=True),
                         encoding="utf-8")
        base = {**os.environ, "NIANBAO_PROXY": nation.proxy_url, "NIANBAO_QUEUE_URL": url}
        done = subprocess.run(
            [sys.executable, "-m", "nianbao.commands.cli", "enqueue", "--sites", str(sites),
             "--db", url, "--archive", str(tmp_path / "warc")], cwd=ROOT, capture_output=True,
            text=True, timeout=300,
            env={**base, "NIANBAO_SETTINGS": str(worker_settings(tmp_path, "q"))})
        assert done.returncode == 0, done.stderr[-2000:]

        # One worker crawls, and takes the OCR job: it is killed in the middle of it.
        workers = {"w0": start_worker(tmp_path, "w0", base, timeout_seconds=900)}
        try:
            deadline = time.time() + 600
            ocr = None
            while ocr is None and time.time() < deadline:
                ocr = next((j for j in parse_jobs(engine) if j.status == "doing"
                            and j.args["reason"].startswith("ocr")), None)
                assert workers["w0"].poll() is None, (tmp_path / "w0.log").read_text()[-3000:]
                time.sleep(0.5)
            assert ocr is not None, "no OCR job was taken"
            time.sleep(3)  # well into the OCR (it takes a minute or more)
            workers["w0"].send_signal(signal.SIGKILL)
            workers["w0"].wait()
            with engine.connect() as c:
                stored_then = c.execute(select(func.count()).select_from(Version)
                                        .where(Version.url == ocr.args["url"])).scalar()
            assert stored_then == 0  # killed before it stored anything
            # Two others finish everything: the stalled OCR job among it.
            for name in ("w1", "w2"):
                workers[name] = start_worker(tmp_path, name, base, timeout_seconds=900)
            deadline = time.time() + 1500
            while time.time() < deadline:
                states = job_states(engine)
                assert not states.get("failed"), (states, (tmp_path / "w1.log").read_text())
                if set(states) == {"succeeded"}:
                    break
                time.sleep(2)
            assert set(job_states(engine)) == {"succeeded"}
        finally:
            stop_workers(workers)

        # The crawls deferred exactly the heavy documents; each has one job, run to its end;
        # the OCR job ran again after its worker was killed.
        jobs = parse_jobs(engine)
        assert sorted(j.args["url"] for j in jobs) == sorted(nation.heavy)
        again = next(j for j in jobs if j.id == ocr.id)
        assert again.attempts >= 2 and again.status == "succeeded"
        with engine.connect() as c:
            stats = [s for (s,) in c.execute(select(CrawlRun.stats))]
        assert sum(v.get("deferred", 0) for run in stats for v in run.values()
                   if isinstance(v, dict)) == len(nation.heavy)

        # One version per published report, the heavy ones among them, each pointing at the
        # archived copy its job read.
        published = {gov.name: gov.published(body) for gov in nation.govs
                     for body in gov.bodies() if gov.published(body) is not None}
        with engine.connect() as c:
            versions = c.execute(select(Version.url, Version.warc_pointer, Version.record)).all()
        assert len(versions) == sum(1 for gov in nation.govs for body in gov.bodies()
                                    if gov.published(body) is not None)
        assert len({v.url for v in versions}) == len(versions)
        by_url = {v.url: v for v in versions}
        for job in jobs:
            version = by_url[job.args["url"]]
            assert version.warc_pointer == job.args["warc"]
            assert version.record["issuer"] in published
            assert version.record["report_year"] == 2023
            assert len(version.record["metrics"]) >= 150

        # Run a job again (a worker killed after it stored): nothing new is stored.
        doc_job = next(j for j in jobs if nation.heavy[j.args["url"]] == "doc")
        with ParsePool.from_settings({**settings()["parse"], "workers": 1}) as pool:
            assert parse_archived(doc_job.args, pool, Store(engine)) == "unchanged"
        with engine.connect() as c:
            assert c.execute(select(func.count()).select_from(Version)).scalar() == len(versions)

        # Each heavy report's site was judged after its parse: its verdict cites its version.
        with engine.connect() as c:
            verdicts = {(r.site_id, r.issuer): r for r in c.execute(
                select(VerdictRow).where(VerdictRow.report_year == 2023))}
        for job in jobs:
            issuer = by_url[job.args["url"]].record["issuer"]
            verdict = verdicts[(job.args["site_id"], issuer)]
            assert verdict.status in ("on_time", "late"), verdict.status
            assert verdict.url == job.args["url"]
        engine.dispose()
