"""A region's own way out (``crawl.regions``): its proxy and vantage label, for the crawl and
for discovery, with the address guard still judging every request.

Two replica nations, each an HTTP forward proxy on loopback (tests/mockserver/nation.py):
Zhejiang's portals behind the machine's proxy (``NIANBAO_PROXY``), Shanxi's only behind the
proxy configured for region 140000. A request that went the wrong way would find no portal
there (HTTP 404), and each proxy's log shows which hosts it was asked for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from nianbao.settings import settings
from nianbao.storage.db import connect
from nianbao.storage.models import FetchFailure, Observation, Version
from tests.mockserver.nation import Nation

ROOT = Path(__file__).resolve().parents[1]
GUARDED = "http://169.254.169.254/zfxxgknb/"  # a metadata address, in a region with a proxy


def nianbao(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nianbao.commands.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="module")
def regions(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("regions")
    with Nation(("330000",), per_level=1) as home, Nation(("140000",), per_level=1) as shanxi:
        conf = json.loads(json.dumps(settings()))
        conf["fetch"]["delay_seconds"] = 0.25
        conf["fetch"]["autothrottle_start_delay_seconds"] = 0.25
        conf["crawl"]["vantage"] = "home-office"
        conf["crawl"]["regions"] = {"140000": {"proxy": shanxi.proxy_url,
                                               "vantage": "shanxi-office"}}
        path = tmp / "settings.yaml"
        path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
        env = {**os.environ, "NIANBAO_SETTINGS": str(path), "NIANBAO_PROXY": home.proxy_url}
        env.pop("NIANBAO_VANTAGE", None)
        yield home, shanxi, tmp, env


def hosts(nation: Nation) -> set[str]:
    return {hit.host for hit in nation.log()}


def test_each_region_crawled_through_its_own_proxy_and_labelled(regions):
    home, shanxi, tmp, env = regions
    entries = [*home.site_entries(), *shanxi.site_entries(),
               {"id": "guarded", "name": "太原市人民政府 (test)", "region": "140100",
                "domains": ["169.254.169.254"], "columns": [GUARDED]}]
    sites = tmp / "sites.yaml"
    sites.write_text(yaml.safe_dump({"sites": entries}, allow_unicode=True), encoding="utf-8")
    db = f"sqlite:///{tmp / 'crawl.sqlite'}"
    done = nianbao("crawl", "--sites", str(sites), "--db", db, "--archive", str(tmp / "warc"),
                   env=env)
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 1: the guarded site failed

    assert hosts(home) and all(".gov33" in h for h in hosts(home))
    assert hosts(shanxi) and all(".gov14" in h for h in hosts(shanxi))
    assert "169.254.169.254" not in hosts(home) | hosts(shanxi)  # the guard held
    engine = connect(db)
    with engine.connect() as c:
        vantages = dict(c.execute(select(Observation.site_id, Observation.vantage)).all())
        failures = c.execute(select(FetchFailure.site_id, FetchFailure.reason)).all()
        versions = c.execute(select(Version.url)).scalars().all()
    engine.dispose()
    for entry in entries:
        want = "shanxi-office" if entry["region"].startswith("14") else "home-office"
        assert vantages[entry["id"]] == want, entry["id"]
    assert ("guarded", "forbidden-address") in failures
    published = [g for n in (home, shanxi) for g in n.govs for b in g.bodies()
                 if g.published(b) is not None]
    assert len(versions) == len(published)  # both regions' reports, each once


def test_discovery_takes_each_region_its_own_way(regions):
    home, shanxi, tmp, env = regions
    seeds = tmp / "provinces.yaml"
    seeds.write_text(yaml.safe_dump({"provinces": home.seeds() + shanxi.seeds()},
                                    allow_unicode=True), encoding="utf-8")
    before = len(shanxi.log()), len(home.log())
    (tmp / "none.yaml").write_text("sites: []\n", encoding="utf-8")
    done = nianbao("discover", "--seeds", str(seeds), "--sites", str(tmp / "none.yaml"),
                   "--out", str(tmp / "out"), "--db", f"sqlite:///{tmp / 'walk.sqlite'}",
                   "--archive", str(tmp / "walk-warc"), env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    tree = json.loads((tmp / "out" / "tree.json").read_text(encoding="utf-8"))
    found = {p["code"]: p for p in tree["portals"]}
    assert set(found) == {g.code for n in (home, shanxi) for g in n.govs}
    for code, portal in found.items():
        assert portal["status"] == "reached", portal
        assert portal["vantage"] == ("shanxi-office" if code.startswith("14") else
                                     "home-office")
    walked = {h.host for h in shanxi.log()[before[0]:]}, {h.host for h in home.log()[before[1]:]}
    assert walked[0] and all(".gov14" in h for h in walked[0])
    assert walked[1] and all(".gov33" in h for h in walked[1])
