"""Settings that follow from other settings, derived once every override is in (a Scrapy
add-on runs after ``-s`` options and the spider's ``-a site=`` have been applied).

- ``DOWNLOAD_SLOTS`` from each site's ``politeness`` (``concurrency``, ``delay_seconds``,
  ``autothrottle``), so a fragile county portal can get one request every few seconds;
- ``NIANBAO_PROXY`` for Chromium's pages as well as for Scrapy (without it, pages go through
  the local pinning proxy, ``crawler/browser_proxy.py``), and a proxy where nothing listens for
  Chromium's own background traffic;
- the filter of what Chromium need not request (``PLAYWRIGHT_ABORT_REQUEST``); addresses are
  judged per site inside each page (``crawler/browser_guard.py``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings

from nianbao.crawler.services import configured_sites
from nianbao.crawler.vantage import Ways
from nianbao.sites import Site


class NianbaoAddon:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NianbaoAddon:
        return cls()

    def update_settings(self, settings: BaseSettings) -> None:
        sites = list(configured_sites(settings).values())
        slots = {**politeness_slots(sites, settings), **settings.getdict("DOWNLOAD_SLOTS")}
        _derive(settings, "DOWNLOAD_SLOTS", slots)
        launch, context = browser_proxies(settings)
        _derive(settings, "PLAYWRIGHT_LAUNCH_OPTIONS", launch)
        _derive(settings, "NIANBAO_BROWSER_CONTEXT", context)
        regional = len(Ways.from_settings(settings).proxies())  # a context per regional proxy
        _derive(settings, "PLAYWRIGHT_MAX_CONTEXTS",
                settings.getint("PLAYWRIGHT_MAX_CONTEXTS") + regional)
        _derive(settings, "PLAYWRIGHT_ABORT_REQUEST", BrowserRequestFilter())


def browser_proxies(settings: BaseSettings) -> tuple[dict, dict]:
    """Chromium's launch and context options with the proxies set so that only pages' requests
    leave the browser: the browser-wide proxy (which Chromium's own background traffic —
    updates, accounts — uses) is ``NIANBAO_BROWSER_NULL_PROXY``, where nothing listens; the
    pages' context uses ``NIANBAO_PROXY``; without one, ``RenderMiddleware`` gives it the local
    pinning proxy (``browser_proxy.py``) when the first page is rendered."""
    null = settings.get("NIANBAO_BROWSER_NULL_PROXY")
    launch = {**settings.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"), "proxy": {"server": null}}
    proxy = settings.get("NIANBAO_PROXY")
    context = settings.getdict("NIANBAO_BROWSER_CONTEXT")
    return launch, {**context, "proxy": {"server": proxy}} if proxy else context


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
    """Browser sub-requests nianbao never sends: images, fonts and media (not needed to read a
    report). Where the rest may go is the page's guard's decision (``browser_guard.py``)."""

    def __call__(self, request) -> bool:
        return request.resource_type in ("image", "font", "media")
