"""Re-discovery on a schedule (columns move): weekly by default, candidates for review only,
never a site entry; offline it keeps the previous results.

The scheduled job is run as the scheduler runs it (``schedule/rediscover.py``: ``nianbao
discover`` in a subprocess, from ``schedule.discover_seeds`` into ``schedule.discover_dir``),
against the replica nation over HTTP, and with no way out at all.
"""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest
import yaml
from apscheduler.triggers.cron import CronTrigger

from nianbao import settings as settings_module
from nianbao.schedule.rediscover import rediscover
from nianbao.schedule.scheduler import build_scheduler, stop_scheduler, sync_jobs
from nianbao.settings import settings
from tests.mockserver.nation import Nation

HAND_CHECKED = """sites:
  - id: hand-hz
    name: 杭州市人民政府 (hand-checked)
    region: "330100"
    domains: [gov330100.test]
    columns: [http://xxgk.gov330100.test/zfxxgknb/]
"""


def test_rediscovery_is_scheduled_weekly_by_default(tmp_path):
    scheduler = build_scheduler(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    scheduler.start(paused=True)
    try:
        sync_jobs(scheduler, [], f"sqlite:///{tmp_path / 'db.sqlite'}")
        job = scheduler.get_job("discover")
    finally:
        stop_scheduler(scheduler)
    assert job is not None and job.func_ref == "nianbao.schedule.rediscover:rediscover"
    assert isinstance(job.trigger, CronTrigger)
    fires, previous, now = [], None, job.next_run_time
    while len(fires) < 4:
        fire = job.trigger.get_next_fire_time(previous, now)
        fires.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)
    assert {b - a for a, b in pairwise(fires)} == {timedelta(days=7)}


@pytest.fixture
def scheduled(tmp_path, monkeypatch):
    """Settings as a scheduler would have them, with discovery's seeds and folder here."""
    def configure(seeds: list[dict], proxy: str) -> Path:
        conf = json.loads(json.dumps(settings()))
        seeds_file = tmp_path / "provinces.yaml"
        seeds_file.write_text(yaml.safe_dump({"provinces": seeds}, allow_unicode=True),
                              encoding="utf-8")
        conf["schedule"].update(discover_seeds=str(seeds_file),
                                discover_dir=str(tmp_path / "discovery"))
        conf["fetch"].update(delay_seconds=0.25, autothrottle_start_delay_seconds=0.25)
        conf["storage"]["archive_dir"] = str(tmp_path / "warc")
        path = tmp_path / "settings.yaml"
        path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
        monkeypatch.setenv("NIANBAO_SETTINGS", str(path))
        monkeypatch.setenv("NIANBAO_PROXY", proxy)
        settings_module.settings.cache_clear()
        return tmp_path / "discovery"

    yield configure
    settings_module.settings.cache_clear()


def test_scheduled_rediscovery_writes_candidates_never_entries(tmp_path, scheduled):
    sites = tmp_path / "sites.yaml"
    sites.write_text(HAND_CHECKED, encoding="utf-8")
    with Nation(("330000",), per_level=1) as nation:
        out = scheduled(nation.seeds(), nation.proxy_url)
        code = rediscover(f"sqlite:///{tmp_path / 'db.sqlite'}", str(sites))
    assert code == 0
    candidates = yaml.safe_load((out / "candidates.yaml").read_text(encoding="utf-8"))["sites"]
    regions = {c["region"] for c in candidates}
    assert regions == {g.code for g in nation.govs} - {"330100"}  # the hand-checked one kept
    assert all(c["verified"] is False for c in candidates)
    assert sites.read_text(encoding="utf-8") == HAND_CHECKED  # never an entry written


def test_offline_rediscovery_keeps_the_previous_results(tmp_path, scheduled):
    sites = tmp_path / "sites.yaml"
    sites.write_text(HAND_CHECKED, encoding="utf-8")
    # No way out: the proxy's port has nothing listening (connections refused), as offline.
    out = scheduled(Nation(("330000",), per_level=1).seeds(), "http://127.0.0.1:9")
    out.mkdir()
    previous = {"candidates.yaml": "sites: [previous]\n", "coverage.json": "[\"previous\"]"}
    for name, text in previous.items():
        (out / name).write_text(text, encoding="utf-8")
    code = rediscover(f"sqlite:///{tmp_path / 'db.sqlite'}", str(sites))
    assert code == 1
    assert {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()
            if p.name in previous} == previous
    assert sites.read_text(encoding="utf-8") == HAND_CHECKED
