"""End to end over real HTTP: the real ``config/sites.yaml`` entries crawled through the
replica portals (``replicas/``), which stand behind a local proxy, exactly as a user would
point nianbao at a proxy. Scrapy, Chromium, SQLite/PostgreSQL and warcio are all real.

One crawl sequence per backend: first crawl → unchanged recrawl → a silent revision on the
replica → recrawl. A separate crawl is SIGKILLed mid-run and started again.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, func, select, text

from nianbao.archive.pointer import WarcPointer
from nianbao.archive.reader import read_payload
from nianbao.crawler.links import is_attachment
from nianbao.sites import load_sites
from tests.conftest import FIXTURES, ROOT, gold, metric_mismatches, require_tool

NIANBAO = [sys.executable, "-m", "nianbao.commands.cli"]
REVISED = ("000", "requests.new.total", 52)


@pytest.fixture(scope="module")
def replica(tmp_path_factory):
    from tests.mockserver.proxy import ReplicaServer

    require_tool("chromium", "the crawler renders JS lists and passes challenges in Chromium")
    require_tool("soffice", "the replicas render PDF and DOC attachments with LibreOffice")
    cache = tmp_path_factory.mktemp("renderings")
    with ReplicaServer(cache_dir=cache, delays={"sifangtai": 0.3}) as server:
        assert server.wait_ready(), "the replica attachments did not render"
        yield server


@pytest.fixture(scope="module")
def test_settings(tmp_path_factory) -> Path:
    """Project settings with test-sized politeness (no delay, short timeouts)."""
    conf = yaml.safe_load((ROOT / "config" / "settings.yaml").read_text(encoding="utf-8"))
    conf["fetch"].update(delay_seconds=0, timeout_seconds=10, retries=1)
    conf["crawl"].update(render_timeout_seconds=10)
    path = tmp_path_factory.mktemp("settings") / "settings.yaml"
    path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
    return path


def replica_site_ids(replica) -> list[str]:
    """Entries of the real sites file whose start URLs the replicas serve."""
    return [s.id for s in replica.served_sites(load_sites(ROOT / "config" / "sites.yaml"))]


def crawl_command(replica, db: str, archive: Path) -> list[str]:
    args = [*NIANBAO, "crawl", "--db", db, "--archive", str(archive), "--proxy",
            replica.proxy_url]
    for site_id in replica_site_ids(replica):
        args += ["--site", site_id]
    return args


def crawl(replica, settings: Path, db: str, archive: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NIANBAO_SETTINGS": str(settings)}
    done = subprocess.run(crawl_command(replica, db, archive), env=env, capture_output=True,
                          text=True, timeout=600, cwd=ROOT)
    print(done.stdout, done.stderr[-3000:], sep="\n")
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def versions(db: str) -> list[dict]:
    engine = create_engine(db.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT v.id, v.url, v.kind, v.changes, v.record, v.payload_digest, v.warc_pointer, "
            "i.name AS issuer, r.report_year FROM versions v JOIN reports r ON r.id = v.report_id "
            "JOIN issuers i ON i.id = r.issuer_id ORDER BY v.id")).mappings().all()
    engine.dispose()
    return [dict(r) for r in rows]


def failures(db: str) -> list[dict]:
    engine = create_engine(db)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT url, reason, detail FROM fetch_failures")).mappings()
        out = [dict(r) for r in rows]
    engine.dispose()
    return out


def _json(value):
    import json

    return json.loads(value) if isinstance(value, str) else value


class CrawlSequence:
    """first crawl → recrawl → revision → recrawl, with bytes served per crawl."""

    def __init__(self, replica, settings: Path, db: str, archive: Path):
        self.archive = archive
        self.db = db
        replica.clear_log()
        crawl(replica, settings, db, archive)
        self.first_log = replica.log()
        self.first = versions(db)
        self.first_failures = failures(db)
        replica.clear_log()
        crawl(replica, settings, db, archive)
        self.second_log = replica.log()
        self.second = versions(db)
        replica.revise(*REVISED)
        replica.clear_log()
        crawl(replica, settings, db, archive)
        self.third = versions(db)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def sequence(request, replica, test_settings, tmp_path_factory):
    work = tmp_path_factory.mktemp(f"crawl-{request.param}")
    if request.param == "sqlite":
        yield CrawlSequence(replica, test_settings, f"sqlite:///{work / 'db.sqlite'}",
                            work / "archive")
        replica.revise(REVISED[0], REVISED[1], gold_value(*REVISED[:2]))
        return
    from tests.conftest import postgres_schema

    with postgres_schema("nianbao_crawl") as url:
        yield CrawlSequence(replica, test_settings, url, work / "archive")
        replica.revise(REVISED[0], REVISED[1], gold_value(*REVISED[:2]))


def gold_value(seed_prefix: str, key: str):
    seed = next(p.stem for p in (FIXTURES / "gold").glob(f"{seed_prefix}_*.json"))
    return gold(seed)["metrics"][key]


def test_first_crawl_stores_every_report_once_with_gold_figures(sequence, replica):
    manifest = replica.manifest()
    expected = {r["url"]: r for r in manifest["reports"]}
    stored = {v["url"]: v for v in sequence.first}
    print(f"replica reports: {len(expected)}, attachments: {len(manifest['attachments'])}, "
          f"stored versions: {len(sequence.first)}")
    assert set(stored) == set(expected), "every report found, nothing else stored"
    assert len(sequence.first) == len(expected), "each stored once"
    for url, report in expected.items():
        record = _json(stored[url]["record"])
        truth = gold(report["seed_id"])
        assert metric_mismatches(record, truth["metrics"]) == [], url
        assert record["report_year"] == truth["report_year"]
        assert record["issuer"] in truth["issuer_aliases"]


def test_no_lookalike_challenge_or_bad_link_is_stored(sequence, replica):
    manifest = replica.manifest()
    stored = {v["url"] for v in sequence.first}
    for item in manifest["lookalikes"] + manifest["bad_links"]:
        assert item["url"] not in stored, item
    for version in sequence.first:
        body = read_payload(sequence.archive, WarcPointer.from_dict(_json(version["warc_pointer"])))
        assert b"wzwschallenge" not in body and b"__jsl_clearance" not in body


def test_bad_links_are_recorded_with_reasons_and_never_fetched(sequence, replica):
    manifest = replica.manifest()
    by_url: dict[str, set[str]] = {}
    for failure in sequence.first_failures:
        by_url.setdefault(failure["url"], set()).add(failure["reason"])
    expected_reason = {"dead": "http-404", "soft404": "soft-404", "offsite": "out-of-scope",
                       "loopback": "forbidden-address", "metadata": "forbidden-address"}
    for bad in manifest["bad_links"]:
        assert by_url.get(bad["url"]) == {expected_reason[bad["kind"]]}, bad
    hosts = {entry.host.split(":")[0] for entry in sequence.first_log}
    assert "127.0.0.1" not in hosts and "169.254.169.254" not in hosts


def test_challenges_are_passed_in_chromium_and_the_trap_stays_bounded(sequence, replica):
    manifest = replica.manifest()
    browser_hosts = {e.host for e in sequence.first_log if e.client == "browser"}
    for challenge in manifest["challenges"]:
        assert set(challenge["hosts"]) & browser_hosts, challenge
    challenged = {p for c in manifest["challenges"] for p in [c["portal"]]}
    stored_portals = {r["portal"] for r in manifest["reports"]
                      if r["url"] in {v["url"] for v in sequence.first}}
    assert {r["portal"] for r in manifest["reports"]} & challenged <= stored_portals
    for trap in manifest["traps"]:
        portal = next(p for p in manifest["portals"] if p["id"] == trap["portal"])
        hits = [e for e in sequence.first_log if e.host in portal["hosts"]
                and ("calendar" in e.target or "jsessionid" in e.target)]
        print(f"trap {trap['kind']} on {trap['portal']}: {len(hits)} requests")
        assert len(hits) <= 3


def test_warc_files_check_and_pointers_read_back_the_parsed_bytes(sequence):
    warcio = str(Path(sys.executable).with_name("warcio"))
    files = sorted(sequence.archive.glob("*.warc.gz"))
    assert files and not list(sequence.archive.glob("*.open"))
    for path in files:
        done = subprocess.run([warcio, "check", str(path)], capture_output=True, text=True)
        assert done.returncode == 0 and "failed" not in done.stdout, done.stdout
    for version in sequence.third:
        body = read_payload(sequence.archive, WarcPointer.from_dict(_json(version["warc_pointer"])))
        assert hashlib.sha256(body).hexdigest() == version["payload_digest"]


def test_unchanged_recrawl_makes_no_version_and_costs_under_ten_percent(sequence):
    first = sum(e.bytes for e in sequence.first_log)
    second = sum(e.bytes for e in sequence.second_log)
    print(f"bytes served: first crawl {first}, unchanged recrawl {second} "
          f"({second / first:.1%})")
    assert [v["id"] for v in sequence.second] == [v["id"] for v in sequence.first]
    assert second < 0.10 * first


def test_unchanged_recrawl_follows_the_attachments_read_before(sequence):
    """An unchanged detail page is not read again: what the first crawl read off it to follow
    is kept with its state, bound to its archived bytes, and its attachments are asked for
    again all the same."""
    def attachments(log) -> set[str]:
        return {e.url for e in log if e.client != "browser" and is_attachment(e.url)}

    first = attachments(sequence.first_log)
    assert first and attachments(sequence.second_log) == first
    engine = create_engine(sequence.db.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT links, warc_pointer FROM resources "
                                 "WHERE kind = 'detail' AND links IS NOT NULL")).all()
    engine.dispose()
    readings = [(_json(links), _json(pointer)) for links, pointer in kept]
    assert any(reading["attachments"] for reading, _ in readings)
    assert all(reading["sha256"] == pointer["sha256"] for reading, pointer in readings)


def test_silent_revision_becomes_exactly_one_new_version_with_its_changes(sequence):
    new = sequence.third[len(sequence.second):]
    assert len(new) == 1
    seed, key, value = REVISED
    assert new[0]["kind"] == "revised"
    changes = _json(new[0]["changes"])
    assert {"key": key, "before": gold_value(seed, key), "after": value} in changes
    assert all(c["key"] == key for c in changes if c["key"].startswith(("requests.", "active.",
                                                                        "review.", "litig")))


def test_sigkill_mid_crawl_loses_nothing_and_stores_nothing_twice(replica, test_settings,
                                                                    tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    archive = tmp_path / "archive"
    env = {**os.environ, "NIANBAO_SETTINGS": str(test_settings)}
    proc = subprocess.Popen(crawl_command(replica, db, archive), env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
        try:
            stored = len(versions(db))
        except Exception:
            stored = 0
        if stored >= 1:
            break
    assert proc.poll() is None, "the crawl finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    print(f"killed after {stored} stored version(s)")
    crawl(replica, test_settings, db, archive)
    after = versions(db)
    expected = {r["url"] for r in replica.manifest()["reports"]}
    assert {v["url"] for v in after} == expected
    assert len(after) == len(expected)
    engine = create_engine(db)
    with engine.connect() as conn:
        statuses = [r[0] for r in conn.execute(text("SELECT status FROM crawl_runs ORDER BY id"))]
        assert conn.execute(select(func.count()).select_from(text("versions"))).scalar() == len(
            expected)
    engine.dispose()
    assert statuses == ["interrupted", "finished"]
    warcio = str(Path(sys.executable).with_name("warcio"))
    for path in archive.glob("*.warc.gz"):
        assert subprocess.run([warcio, "check", str(path)]).returncode == 0


def test_offline_crawl_and_run_record_every_failure_without_a_traceback(tmp_path, test_settings):
    """The README's main job without a network: every portal fails with a reason, which is an
    observation rather than an error — both commands exit 0 and print no traceback."""
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    env = {**os.environ, "NIANBAO_SETTINGS": str(test_settings)}
    done = subprocess.run([*NIANBAO, "crawl", "--db", db, "--archive", str(tmp_path / "a"),
                           "--site", "jccq", "--site", "wenzhou"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    assert "failures: dns" in done.stdout
    reasons = {f["reason"] for f in failures(db)}
    assert reasons == {"dns"}, reasons
    listing = subprocess.run([*NIANBAO, "reports", "--db", db, "--csv"], capture_output=True,
                             text=True, cwd=ROOT)
    assert listing.returncode == 0 and listing.stdout.startswith("site,issuer,report_year")
    main_job = subprocess.run([*NIANBAO, "run", "--db", db, "--archive", str(tmp_path / "a"),
                               "--site", "jccq"], env=env, cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
    assert main_job.returncode == 0, main_job.stderr[-2000:]
    assert "Traceback" not in main_job.stdout + main_job.stderr
    assert "main job: done" in main_job.stdout
    assert re.search(r"crawl: run \d+, exit status 0", main_job.stdout), main_job.stdout
