"""What a crawl observes of each place (column or homepage), one case per way a column fails.

The observation replicas (``tests/mockserver/observed_portals.yaml``) are crawled over real
HTTP through the replica proxy with the site entries an operator would have written for them
(``observed_sites.yaml``): a column read completely, one cut by the page budget, a column that
moved (404) and one that redirects to the homepage (both rediscovered in the same run),
robots.txt forbidding the column (and an entry overriding it), Tencent EdgeOne passed in
Chromium, an unpassable challenge, the HTTP 468 WAF, a timeout; a name that does not resolve
is crawled without the proxy. Each case is one observation, checked field by field.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.conftest import ROOT, require_tool
from tests.test_crawl import NIANBAO

MOCK = ROOT / "tests" / "mockserver"
SITES = MOCK / "observed_sites.yaml"
MAX_LIST_PAGES = 2


@pytest.fixture(scope="module")
def observed_replica(tmp_path_factory):
    from tests.mockserver.proxy import ReplicaServer

    require_tool("chromium", "the crawler passes challenges in Chromium")
    with ReplicaServer(cache_dir=tmp_path_factory.mktemp("renderings"), prerender=False,
                       portals_file=MOCK / "observed_portals.yaml") as server:
        yield server


@pytest.fixture(scope="module")
def settings_file(tmp_path_factory) -> Path:
    conf = yaml.safe_load((ROOT / "config" / "settings.yaml").read_text(encoding="utf-8"))
    conf["fetch"].update(delay_seconds=0, timeout_seconds=10, retries=1)
    conf["crawl"].update(render_timeout_seconds=8, max_list_pages=MAX_LIST_PAGES,
                         vantage="test-bench")
    path = tmp_path_factory.mktemp("settings") / "settings.yaml"
    path.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
    return path


def crawl(settings: Path, db: str, archive: Path, site_ids: list[str],
          proxy: str | None) -> subprocess.CompletedProcess:
    args = [*NIANBAO, "crawl", "--db", db, "--archive", str(archive), "--sites", str(SITES)]
    args += ["--proxy", proxy] if proxy else []
    for site_id in site_ids:
        args += ["--site", site_id]
    env = {**os.environ, "NIANBAO_SETTINGS": str(settings)}
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    print(done.stdout, done.stderr[-3000:], sep="\n")
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return done


def query(db: str, sql: str) -> list[dict]:
    engine = create_engine(db)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(text(sql)).mappings()]
    engine.dispose()
    return rows


@pytest.fixture(scope="module")
def observed(observed_replica, settings_file, tmp_path_factory) -> dict:
    """One crawl of every replica case through the proxy, one of the unresolvable name
    without it; their observations by site id, their versions and failures."""
    work = tmp_path_factory.mktemp("observed")
    db = f"sqlite:///{work / 'db.sqlite'}"
    served = [s["id"] for s in yaml.safe_load(SITES.read_text(encoding="utf-8"))["sites"]
              if s["id"] != "obs-dns"]
    crawl(settings_file, db, work / "archive", served, observed_replica.proxy_url)
    crawl(settings_file, db, work / "archive", ["obs-dns"], None)
    rows = query(db, "SELECT * FROM observations ORDER BY id")
    print(*rows, sep="\n")
    by_site: dict[str, list[dict]] = {}
    for row in rows:
        by_site.setdefault(row["site_id"], []).append(row)
    return {"by_site": by_site, "db": db, "replica": observed_replica,
            "versions": query(db, "SELECT url FROM versions"),
            "failures": query(db, "SELECT site_id, url, reason, detail FROM fetch_failures")}


def only(observed: dict, site_id: str) -> dict:
    rows = observed["by_site"][site_id]
    assert len(rows) == 1, rows
    return rows[0]


def portal(replica, portal_id: str) -> dict:
    return next(p for p in replica.manifest()["portals"] if p["id"] == portal_id)


def entries(replica, portal_id: str) -> int:
    manifest = replica.manifest()
    return sum(1 for key in ("reports", "lookalikes", "bad_links") for item in manifest[key]
               if item["portal"] == portal_id)


def test_a_column_read_completely(observed):
    row = only(observed, "obs-complete")
    replica = observed["replica"]
    assert (row["reached"], row["complete"], row["moved"], row["reason"]) == (1, 1, 0, None)
    assert row["url"] == row["column_url"] == portal(replica, "complete")["column"]
    assert row["list_pages"] == len(portal(replica, "complete")["list_urls"]) == 2
    assert row["items"] == entries(replica, "complete") == 6
    assert row["vantage"] == "test-bench" and row["observed_at"]


def test_a_list_cut_by_the_page_budget(observed):
    row = only(observed, "obs-budget")
    assert len(portal(observed["replica"], "budget")["list_urls"]) > MAX_LIST_PAGES
    assert (row["reached"], row["complete"], row["reason"]) == (1, 0, "budget")
    assert row["list_pages"] == MAX_LIST_PAGES and "max_list_pages" in row["detail"]


@pytest.mark.parametrize(("site_id", "portal_id", "why"), [
    ("obs-moved", "moved", "answers HTTP 404"),
    ("obs-redirect", "redirected", "redirects to"),
])
def test_a_moved_column_is_rediscovered_in_the_same_run(observed, site_id, portal_id, why):
    row = only(observed, site_id)
    replica = observed["replica"]
    new = portal(replica, portal_id)["column"]
    assert (row["reached"], row["complete"], row["moved"], row["reason"]) == (1, 1, 1, None)
    assert row["url"] == new != row["column_url"]
    assert row["items"] == entries(replica, portal_id) and why in row["detail"]
    reports = {r["url"] for r in replica.manifest()["reports"] if r["portal"] == portal_id}
    assert reports <= {v["url"] for v in observed["versions"]}


def test_robots_txt_forbidding_the_column(observed):
    row = only(observed, "obs-robots")
    assert (row["reached"], row["complete"], row["reason"]) == (0, 0, "robots")
    assert row["url"] is None and row["items"] == 0


def test_an_explicit_robots_override_in_the_site_entry(observed):
    row = only(observed, "obs-robots-ok")
    assert (row["reached"], row["complete"], row["reason"]) == (1, 1, None)
    assert row["items"] == entries(observed["replica"], "robots-override")


def test_edgeone_is_recognised_and_passed_in_chromium(observed):
    row = only(observed, "obs-edgeone")
    assert (row["reached"], row["complete"], row["reason"]) == (1, 1, None)
    assert row["items"] == entries(observed["replica"], "edgeone")


@pytest.mark.parametrize(("site_id", "named"), [
    ("obs-blocked", "Tencent EdgeOne"),
    ("obs-468", "HTTP 468"),
])
def test_a_challenge_not_passed_is_no_content(observed, site_id, named):
    row = only(observed, site_id)
    assert (row["reached"], row["complete"], row["reason"]) == (0, 0, "challenge")
    assert named in row["detail"]
    assert not [v for v in observed["versions"] if site_id.removeprefix("obs-") in v["url"]]
    failures = [f for f in observed["failures"] if f["site_id"] == site_id]
    assert failures and {f["reason"] for f in failures} == {"challenge"}


def test_a_timeout(observed):
    row = only(observed, "obs-slow")
    assert (row["reached"], row["complete"], row["reason"]) == (0, 0, "timeout")


def test_a_name_that_does_not_resolve(observed):
    row = only(observed, "obs-dns")
    assert (row["reached"], row["complete"], row["reason"]) == (0, 0, "dns")
    assert row["url"] is None and "does not resolve" in row["detail"]


def test_how_robots_txt_was_read_is_told_apart(observed):
    """A robots.txt that could not be fetched, or that is a challenge page, applied no rule:
    the detail says so, apart from a robots.txt that forbids (obs-robots)."""
    redirected = only(observed, "obs-redirect")["detail"]
    assert "robots.txt could not be fetched (forbidden-address): no rule applied" in redirected
    assert "robots.txt answered with the HTTP 468 challenge" in only(observed, "obs-468")["detail"]
    assert "robots" not in only(observed, "obs-complete")["detail"]


def test_a_column_that_no_longer_lists_what_it_listed_is_moved(observed, settings_file,
                                                               tmp_path):
    """The next run finds the column answering, but holding none of the entries it held:
    the CMS rebuilt the 年报 list elsewhere. Rediscovery leads only back to the same page, so
    the place is moved and not reached — never a complete reading of an empty column."""
    from tests.mockserver.proxy import ReplicaServer

    raw = yaml.safe_load((MOCK / "observed_portals.yaml").read_text(encoding="utf-8"))
    rebuilt = next(p for p in raw["portals"] if p["id"] == "complete")
    rebuilt.update(reports=[], lookalikes=[], bad_links=["soft404"])
    portals = tmp_path / "portals.yaml"
    portals.write_text(yaml.safe_dump({"portals": [rebuilt]}, allow_unicode=True), "utf-8")
    with ReplicaServer(cache_dir=tmp_path, prerender=False, portals_file=portals) as server:
        crawl(settings_file, observed["db"], tmp_path / "archive", ["obs-complete"],
              server.proxy_url)
    before, after = observed["by_site"]["obs-complete"][0], query(
        observed["db"], "SELECT * FROM observations WHERE site_id = 'obs-complete' "
        "ORDER BY id")[-1]
    assert after["id"] != before["id"]
    assert (after["reached"], after["complete"], after["moved"]) == (0, 0, 1)
    assert after["reason"] == "column-moved"
    assert f"none of the {before['items']} entries" in after["detail"]


def test_challenge_pages_are_recognised_whatever_their_status():
    from nianbao.crawler.challenges import challenge_kind

    edgeone = b'<html><script>var WTKkN="x";document.cookie="__tst_status=1";</script></html>'
    assert challenge_kind(200, {}, "http://a.gov.cn/", edgeone) == "edgeone"
    assert challenge_kind(468, {}, "http://a.gov.cn/", b"<p>denied</p>") == "http468"
    assert challenge_kind(521, {"x-via-jsl": "1"}, "http://a.gov.cn/", b"") == "jiasule"
    assert challenge_kind(200, {}, "http://a.gov.cn/", b"<html><a href=x>report</a>") is None
