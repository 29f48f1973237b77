"""Verdicts and events on the observation replicas, one per way a column fails: nothing is
called missing, and no missing_report is recorded, that no complete reading shows. Each failure
is `unobserved` with its reason; a column really read (directly, rediscovered after a move, or
behind a challenge Chromium passed) shows the absent report as `missing`.

The crawl is the one of tests/test_observations.py (the crawler's own observations); the sites
file is the same entries plus, for each, a department that never publishes.
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.conftest import ROOT
from tests.test_crawl import NIANBAO
from tests.test_observations import SITES, observed, observed_replica, settings_file

__all__ = ["observed", "observed_replica", "settings_file"]  # module-scoped fixtures reused
SILENT = "档案局"  # a department of every county here that never publishes
READ = ("obs-complete", "obs-moved", "obs-redirect", "obs-robots-ok", "obs-edgeone")
UNOBSERVED = {"obs-budget": ["budget"], "obs-robots": ["robots"],
              "obs-blocked": ["challenge"], "obs-468": ["challenge"],
              "obs-slow": ["timeout"], "obs-dns": ["dns"]}


@pytest.fixture(scope="module")
def judged(observed, tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("judged")
    data = yaml.safe_load(SITES.read_text(encoding="utf-8"))
    for entry in data["sites"]:
        entry["issuers"] = [{"name": entry["name"].replace("人民政府", SILENT),
                             "kind": "department"}]
    sites = work / "sites.yaml"
    sites.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    db = observed["db"]
    done = subprocess.run([*NIANBAO, "check", "--json", "--year", "2025", "--sites", str(sites),
                           "--db", db], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    verdicts = [json.loads(line) for line in done.stdout.splitlines()]
    script = ("import sys; from datetime import date; "
              "from nianbao.storage.db import connect; from nianbao.sites import load_sites; "
              "from nianbao.schedule import jobs; from pathlib import Path; "
              "e = connect(sys.argv[1]); "
              "[jobs.record_run_events(e, r) for r in (jobs.max_run_id(e),)]; "
              "print(jobs.evaluate(e, load_sites(Path(sys.argv[2])), jobs.today()))")
    events = subprocess.run([*NIANBAO[:1], "-c", script, db, str(sites)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert events.returncode == 0, events.stderr[-3000:]
    engine = create_engine(db)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, site_id, payload FROM events ORDER BY id")).all()
    engine.dispose()
    return {"verdicts": verdicts, "events": [(k, s, p) for k, s, p in rows]}


def silent(judged: dict, site_id: str) -> dict:
    [row] = [v for v in judged["verdicts"]
             if v["site_id"] == site_id and v["issuer"].endswith(SILENT)]
    return row


@pytest.mark.parametrize("site_id", READ)
def test_an_absence_in_a_column_really_read_is_missing(judged, site_id):
    row = silent(judged, site_id)
    assert row["status"] == "missing", row
    assert "fully read" in row["observation"] and row["observation_id"]
    assert f"no report of {row['issuer']} for 2025" in row["observation"]


@pytest.mark.parametrize(("site_id", "reasons"), sorted(UNOBSERVED.items()))
def test_an_absence_seen_through_a_failure_is_unobserved_with_its_reason(judged, site_id,
                                                                         reasons):
    row = silent(judged, site_id)
    assert (row["status"], row["reasons"]) == ("unobserved", reasons), row
    assert row["observation_id"] and "did not read" in row["observation"]


def test_no_missing_verdict_or_event_rests_on_no_complete_reading(judged):
    missing = {v["site_id"] for v in judged["verdicts"] if v["status"] == "missing"}
    assert missing <= set(READ)
    reported = {site for kind, site, _ in judged["events"] if kind == "missing_report"}
    assert reported <= set(READ) and reported  # the columns really read do raise them


def test_blocked_and_moved_sites_raise_their_own_events(judged):
    kinds = {(kind, site) for kind, site, _ in judged["events"]}
    assert {("site_blocked", s) for s in ("obs-robots", "obs-blocked", "obs-468")} <= kinds
    moved = [(site, p) for kind, site, p in judged["events"] if kind == "column_moved"]
    assert sorted(site for site, _ in moved) == ["obs-moved", "obs-redirect"]
    for _, payload in moved:
        payload = json.loads(payload) if isinstance(payload, str) else payload
        assert payload["found"] and payload["url"] != payload["column_url"]


def test_check_as_of_today_stored_the_verdicts(judged, observed):
    engine = create_engine(observed["db"])
    with engine.connect() as conn:
        stored = dict(conn.execute(text(
            "SELECT status, count(*) FROM verdicts GROUP BY status")).all())
    engine.dispose()
    assert stored.get("unobserved") and stored.get("missing")

