"""Settings that follow from other settings, derived once every override is in (a Scrapy
add-on runs after ``-s`` options and the spider's ``-a site=`` have been applied).

- ``DOWNLOAD_SLOTS`` from each site's ``politeness`` (``concurrency``, ``delay_seconds``,
  ``autothrottle``), so a fragile county portal can get one request every few seconds;
- ``NIANBAO_PROXY`` for Chromium as well as for Scrapy;
- the filter of what Chromium may request (``PLAYWRIGHT_ABORT_REQUEST``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

from nianbao.crawler.addresses import forbidden_address
from nianbao.crawler.services import configured_sites
from nianbao.sites import Site


class NianbaoAddon:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NianbaoAddon:
        return cls()

    def update_settings(self, settings: BaseSettings) -> None:
        sites = list(configured_sites(settings).values())
        slots = {**politeness_slots(sites, settings), **settings.getdict("DOWNLOAD_SLOTS")}
        _derive(settings, "DOWNLOAD_SLOTS", slots)
        proxy = settings.get("NIANBAO_PROXY")
        if proxy:
            launch = dict(settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"))
            launch["proxy"] = {"server": proxy}
            _derive(settings, "PLAYWRIGHT_LAUNCH_OPTIONS", launch)
        _derive(settings, "PLAYWRIGHT_ABORT_REQUEST", BrowserRequestFilter(
            settings.getlist("NIANBAO_ALLOWED_PRIVATE_HOSTS"), proxy))


def _derive(settings: BaseSettings, name: str, value) -> None:
    """Set ``name`` at the priority of its current value, so a later override still wins."""
    settings.set(name, value, priority=settings.getpriority(name) or "addon")


def politeness_slots(sites: list[Site], settings: BaseSettings) -> dict[str, dict]:
    """Per-host download slots from each site's ``politeness`` override: its concurrency, its
    delay (also AutoThrottle's floor there) and whether AutoThrottle adapts it
    (``crawler/throttle.py``)."""
    slots: dict[str, dict] = {}
    for site in sites:
        polite = site.politeness
        if not polite.keys() & {"concurrency", "delay_seconds", "autothrottle"}:
            continue
        slot = {"concurrency": int(polite.get("concurrency") or
                                   settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")),
                "delay": float(polite.get("delay_seconds",
                                          settings.getfloat("DOWNLOAD_DELAY")))}
        if "autothrottle" in polite:
            slot["autothrottle"] = bool(polite["autothrottle"])
        for url in [*site.start_urls, *(f"http://{d}/" for d in site.domains)]:
            host = urlsplit(url).hostname
            if host:
                slots[host] = slot
    return slots


class BrowserRequestFilter:
    """Browser sub-requests nianbao never sends: images, fonts and media (not needed), and
    anything a page's scripts aim at a private, loopback or link-local address."""

    def __init__(self, allowed: list[str], proxy: str | None):
        self.allowed = frozenset(allowed)
        self.proxy = bool(proxy)

    def __call__(self, request) -> bool:
        if request.resource_type in ("image", "font", "media"):
            return True
        return forbidden_address(request.url, self.allowed, via_proxy=self.proxy) is not None
