"""``nianbao discover`` on the replica nation (tests/mockserver/nation.py): 2 provinces × 5
prefectures × 5 counties, walked over real HTTP through the crawl's own middlewares, with
Debian's Chromium for the portals behind challenges."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import pytest
import yaml

from nianbao.crawler.platforms import platform_key
from nianbao.sites import load_sites
from tests.conftest import require_tool
from tests.mockserver.nation import Nation

# What a walk can read: a portal with no trouble, or one behind a challenge Chromium passes.
READABLE = (None, "challenge")

ROOT = Path(__file__).resolve().parents[1]
HAND_CHECKED = """# hand-checked: this comment and entry must survive
sites:
  - id: hand-hz
    name: 杭州市人民政府 (hand-checked)
    region: "330100"
    domains: [gov330100.test]
    columns: [http://xxgk.gov330100.test/zfxxgknb/]
"""


def nianbao(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nianbao.commands.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    require_tool("chromium", "discovery opens challenged portals in Debian's Chromium")
    tmp = tmp_path_factory.mktemp("discover")
    with Nation() as nation:
        seeds = tmp / "provinces.yaml"
        seeds.write_text(yaml.safe_dump({"provinces": nation.seeds()}, allow_unicode=True),
                         encoding="utf-8")
        sites = tmp / "sites.yaml"
        sites.write_text(HAND_CHECKED, encoding="utf-8")
        done = nianbao("discover", "--seeds", str(seeds), "--sites", str(sites),
                       "--out", str(tmp / "out"), "--db", f"sqlite:///{tmp / 'db.sqlite'}",
                       "--archive", str(tmp / "warc"), "--proxy", nation.proxy_url)
        assert done.returncode == 0, done.stderr[-3000:]
        yield nation, tmp, done


def test_linked_portals_are_found_with_their_division_codes(walked):
    nation, tmp, _ = walked
    tree = json.loads((tmp / "out" / "tree.json").read_text(encoding="utf-8"))
    found = {p["code"]: p for p in tree["portals"]}
    linked = nation.linked()
    right = [g for g in linked if g.code in found and found[g.code]["homepage"] == g.homepage]
    assert len(right) / len(linked) >= 0.95, sorted({g.code for g in linked} - set(found))
    # no portal matched to a code it is not the portal of
    by_home = {g.homepage: g.code for g in nation.govs}
    assert all(by_home[p["homepage"]] == code for code, p in found.items())


def test_columns_of_every_reachable_body_are_found(walked):
    nation, tmp, _ = walked
    tree = json.loads((tmp / "out" / "tree.json").read_text(encoding="utf-8"))
    found = {p["code"]: p for p in tree["portals"]}
    reachable = [g for g in nation.linked() if g.trouble in READABLE]
    assert any(g.trouble == "challenge" for g in reachable)
    bodies = [(g, b) for g in reachable for b in g.bodies()]
    right = [(g, b) for g, b in bodies
             if (found[g.code]["bodies"].get(b) or {}).get("column") == g.column(b)]
    assert len(right) / len(bodies) >= 0.95
    kinds = {b["name"]: b["kind"] for p in found.values() for b in p["bodies"].values()}
    assert kinds["杭州市人民政府"] == "government"
    assert kinds["杭州市人民政府办公室"] == "office"
    assert kinds["杭州市教育局"] == "department"


def test_the_rest_is_reported_with_its_reason(walked):
    nation, tmp, _ = walked
    report = json.loads((tmp / "out" / "coverage.json").read_text(encoding="utf-8"))
    missing = {m["code"]: m["reason"] for row in report for m in row["missing"]}
    details = {m["code"]: m["detail"] for row in report for m in row["missing"]}
    want = {"unlinked": "no-link", "unreachable": "unreachable", "bot-check": "blocked",
            "robots": "robots"}
    troubled = [g for g in nation.govs if g.trouble not in READABLE]
    assert {g.trouble for g in troubled} == set(want)
    for gov in troubled:
        assert missing[gov.code] == want[gov.trouble], (gov.code, details[gov.code])
    # Chromium was tried before the bot check was called blocked; the JS challenge it passed
    bot_check = next(g for g in troubled if g.trouble == "bot-check")
    # (either way the browser reports it: the challenge still shown, or, on a loaded machine, a
    # page it could not read in its time)
    assert any(said in details[bot_check.code] for said in
               ("browser did not pass", "kept reloading")), details[bot_check.code]
    passed = next(g for g in nation.govs if g.trouble == "challenge")
    assert passed.code not in missing, (missing.get(passed.code), details.get(passed.code))
    assert any(h.host == passed.host and h.status == 200 for h in nation.log())
    for row in report:  # expected divisions come from the codes, not from the replica
        replica = [g for g in nation.govs if g.code[:2] == row["province"][:2]]
        assert row["expected"] > len(replica)
        assert row["columns_found"] == sum(1 for g in replica if g.trouble in READABLE)


def test_candidates_keep_hand_checked_entries_and_are_accepted_on_review(walked):
    _, tmp, _ = walked
    candidates = tmp / "out" / "candidates.yaml"
    entries = yaml.safe_load(candidates.read_text(encoding="utf-8"))["sites"]
    assert "330100" not in {e["region"] for e in entries}  # hand-checked: kept, not proposed
    assert all(e["verified"] is False and e["seen_at"] for e in entries)
    county = next(e for e in entries if e["region"] == "330102")
    assert county["seen_at"]["portal"]["page"] == "http://www.gov330100.test/"
    sites = tmp / "sites.yaml"
    done = nianbao("discover", "--accept", str(candidates), "--sites", str(sites))
    assert done.returncode == 0, done.stderr
    text = sites.read_text(encoding="utf-8")
    assert text.startswith(HAND_CHECKED)
    loaded = {s.id: s for s in load_sites(sites)}
    assert len(loaded) == 1 + len(entries)
    assert loaded["hand-hz"].name == "杭州市人民政府 (hand-checked)"
    again = nianbao("discover", "--accept", str(candidates), "--sites", str(sites))
    assert f"0 candidate(s) into {sites}; {len(entries)} skipped" in again.stdout.replace(
        "accepted ", "")
    assert sites.read_text(encoding="utf-8") == text


def test_each_platform_is_asked_about_once_a_second(walked):
    nation, _, _ = walked
    starts = defaultdict(list)
    for hit in nation.log():
        starts[platform_key(hit.host)].append(hit.start)
    busiest, gaps = 0, []
    for times in starts.values():
        times.sort()
        gaps += [b - a for a, b in pairwise(times)]
        busiest = max(busiest, *(sum(1 for t in times if start <= t < start + 1.0)
                                 for start in times))
    # One request a second (Scrapy randomises the delay between 0.5 and 1.5 s); a request
    # held up in the network may arrive just before the next one, never a third.
    assert busiest <= 2
    assert sum(gaps) / len(gaps) >= 0.9
    shared = platform_key("http://xxgk.gov330100.test/county/330102/")
    assert shared == platform_key("http://www.gov330100.test/")
