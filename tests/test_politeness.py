"""Politeness that the settings control: AutoThrottle, delay and concurrency from
``config/settings.yaml`` and per site from ``config/sites.yaml``; a 304 is a success."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from nianbao.crawler.addon import NianbaoAddon
from nianbao.crawler.run import CrawlOptions, scrapy_settings
from nianbao.crawler.throttle import SiteThrottle
from nianbao.sites import SitesError, load_sites
from tests.conftest import ROOT, require_tool
from tests.mockserver.attacks import AttackPortal
from tests.mockserver.generated import GeneratedPortal
from tests.test_ssrf import column, run_crawl, write_site


def throttle(**settings) -> SiteThrottle:
    conf = {"AUTOTHROTTLE_ENABLED": True, "DOWNLOAD_DELAY": 0.2, "AUTOTHROTTLE_MAX_DELAY": 30,
            "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0, **settings}
    return SiteThrottle(get_crawler(settings_dict=conf))


def test_a_304_lowers_the_delay_as_a_200_does_and_an_error_does_not() -> None:
    t = throttle()
    assert t.next_delay(5.0, 0.01, 200, floor=0.2) == pytest.approx(2.505)
    assert t.next_delay(5.0, 0.01, 304, floor=0.2) == pytest.approx(2.505)
    assert t.next_delay(5.0, 0.01, 404, floor=0.2) == 5.0
    assert t.next_delay(1.0, 8.0, 500, floor=0.2) == 8.0  # a slow error still slows down


def test_the_sites_delay_is_the_floor_and_the_maximum_holds() -> None:
    t = throttle(AUTOTHROTTLE_MAX_DELAY=10)
    assert t.next_delay(3.0, 0.001, 200, floor=3.0) == 3.0
    assert t.next_delay(3.0, 60.0, 200, floor=0.2) == 10.0


def test_autothrottle_off_everywhere_is_no_extension() -> None:
    with pytest.raises(NotConfigured):
        throttle(AUTOTHROTTLE_ENABLED=False)
    one_site = throttle(AUTOTHROTTLE_ENABLED=False,
                        DOWNLOAD_SLOTS={"slow.example": {"delay": 2.0, "autothrottle": True}})
    assert not one_site.enabled


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


SITE = """sites:
  - id: county
    name: 某县人民政府
    domains: [county.example.gov.cn]
    columns: [http://county.example.gov.cn/xxgk/ndbg/]
    politeness: {politeness}
"""


def test_settings_and_site_politeness_reach_scrapy(tmp_path: Path) -> None:
    sites = write(tmp_path / "sites.yaml", SITE.format(
        politeness="{concurrency: 1, delay_seconds: 5, autothrottle: false}"))
    conf = scrapy_settings(CrawlOptions("sqlite://", tmp_path, sites))
    NianbaoAddon().update_settings(conf)  # as Scrapy does, once every override is in
    fetch = yaml.safe_load((ROOT / "config" / "settings.yaml").read_text("utf-8"))["fetch"]
    assert conf.getbool("AUTOTHROTTLE_ENABLED") is fetch["autothrottle"]
    assert conf.getfloat("DOWNLOAD_DELAY") == fetch["delay_seconds"]
    assert conf.getint("CONCURRENT_REQUESTS") == fetch["concurrency_total"]
    assert conf.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == fetch["concurrency_per_host"]
    assert conf.getdict("DOWNLOAD_SLOTS")["county.example.gov.cn"] == {
        "concurrency": 1, "delay": 5.0, "autothrottle": False}
    assert conf.getdict("EXTENSIONS")["scrapy.extensions.throttle.AutoThrottle"] is None


@pytest.mark.parametrize("politeness", [
    "{concurrency: 0}", "{delay_seconds: -1}", "{autothrottle: sometimes}",
    "{timeout_seconds: 0}", "{concurrency: 2.5}",
])
def test_wrong_politeness_is_refused_with_its_line(tmp_path: Path, politeness: str) -> None:
    with pytest.raises(SitesError, match=r"line \d+: site 'county': politeness: "):
        load_sites(write(tmp_path / "sites.yaml", SITE.format(politeness=politeness)))


def crawl(portal: GeneratedPortal, work: Path, settings: Path) -> str:
    command = [sys.executable, "-m", "nianbao.commands.cli", "crawl", "--verbose",
               "--sites", str(portal.write_sites(work / "sites.yaml")),
               "--db", f"sqlite:///{work / 'crawl.sqlite'}", "--archive", str(work / "warc")]
    done = subprocess.run(command, env={**os.environ, "NIANBAO_SETTINGS": str(settings)},
                          capture_output=True, text=True, timeout=300, cwd=work)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def test_an_unchanged_recrawl_of_304s_brings_the_delay_down(tmp_path: Path) -> None:
    """AutoThrottle starts every host at 2 s; the first crawl's 200s and the recrawl's 304s
    alike bring it down towards what the host's speed allows (Scrapy's own rule kept an
    all-304 recrawl at its start delay, slower than the first crawl)."""
    conf = yaml.safe_load((ROOT / "config" / "settings.yaml").read_text("utf-8"))
    conf["fetch"].update(delay_seconds=0, autothrottle=True, autothrottle_start_delay_seconds=2.0,
                         obey_robots_txt=False)
    settings = write(tmp_path / "settings.yaml", yaml.safe_dump(conf, allow_unicode=True))
    with GeneratedPortal(12, attachment_every=0) as portal:
        first = crawl(portal, tmp_path, settings)
        again = crawl(portal, tmp_path, settings)
        assert portal.counters()["not_modified"] >= 13  # the recrawl was all 304s
    assert "unchanged=12" in again
    delays = [int(re.search(r"'nianbao/throttle/delay_ms/127\.0\.0\.1': (\d+)", out)[1])
              for out in (first, again)]
    assert delays[0] < 1000 and delays[1] < 1000, delays


# A JavaScript-cookie challenge: the first load sets a cookie and reloads a second later; the
# reloaded page draws its content.
RELOADS_ONCE = ("<html><head><meta charset='utf-8'></head><body><script>"
                "if (document.cookie.includes('seen=1')) { document.body.innerHTML ="
                " '<' + 'a href=\"#top\">政府信息公开年度报告</a>'; } else {"
                " document.cookie = 'seen=1; path=/'; setTimeout(() => location.reload(), 1000);"
                " }</script></body></html>")


def test_a_browser_visit_holds_its_platform_until_its_page_is_read(tmp_path: Path) -> None:
    """Chromium may ask a portal for more than the page in one visit (a challenge's reload a
    second later). The visit is one request to the platform: with one request at a time, the
    next one waits until the visit's page has been read, never slipping in between the
    page's first load and its reload."""
    require_tool("chromium", "the page is rendered in a real browser")
    with AttackPortal() as portal:
        portal.page("/a/", RELOADS_ONCE)
        portal.page("/b/", column())
        sites = write_site(tmp_path / "sites.yaml", portal, render="always",
                           columns=[{"url": f"{portal.url}/a/"}, {"url": f"{portal.url}/b/"}],
                           politeness={"delay_seconds": 0, "concurrency": 1})
        done, _ = run_crawl(tmp_path, sites)
        visits = [path for path in portal.paths() if path in ("/a/", "/b/")]
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert visits in (["/a/", "/a/", "/b/"], ["/b/", "/a/", "/a/"]), visits
