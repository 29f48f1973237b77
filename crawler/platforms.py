"""Platforms: what one politeness budget, one queue lock and one crawl job stand for.

Many bodies share one host (a city-wide 信息公开 platform lists every bureau's column), and one
registered domain often fronts several hosts behind the same WAF (www., xxgk., zwgk.). A
throttle per hostname would let a crawl hit that one server from three sides at once, so the
unit of politeness is the *platform*: a group the operator configured
(``fetch.platform_groups``: name → hosts or domains), else the host's registered domain
(``hangzhou.gov.cn`` for ``xxgk.hangzhou.gov.cn``, from tldextract's bundled suffix list), else
— for an IP address or a name under no public suffix — the host itself, or its last two labels.

``PlatformSlotMiddleware`` puts every request of a platform in one Scrapy download slot, so the
slot's delay (``fetch.delay_seconds``, about one request a second) and concurrency apply to the
platform. A host with its own slot (a site entry's ``politeness``) keeps it.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler

import nianbao.crawler  # noqa: F401  (its tldextract switches: the bundled suffix list, offline)

GROUP_PREFIX = "group:"


def _extractor():
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@lru_cache(maxsize=1)
def _tld():
    return _extractor()


def _in(host: str, domain: str) -> bool:
    domain = domain.lower().lstrip(".")
    return host == domain or host.endswith("." + domain)


def platform_key(url_or_host: str, groups: dict[str, list[str]] | None = None) -> str:
    """The platform a URL (or bare host) belongs to (see the module docstring)."""
    host = (urlsplit(url_or_host).hostname if "//" in url_or_host else url_or_host) or ""
    host = host.lower().rstrip(".")
    for name, members in (groups or {}).items():
        if any(_in(host, member) for member in members):
            return GROUP_PREFIX + name
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    parts = _tld()(host)
    if parts.suffix and parts.domain:
        return f"{parts.domain}.{parts.suffix}"
    labels = host.split(".")
    return ".".join(labels[-2:]) if len(labels) >= 2 else host


class PlatformSlotMiddleware:
    """Downloader middleware: one download slot per platform (``fetch.platform_groups``)."""

    def __init__(self, crawler: Crawler):
        conf = crawler.settings
        self.groups: dict[str, list[str]] = conf.getdict("NIANBAO_PLATFORM_GROUPS")
        self.own_slots = set(conf.getdict("DOWNLOAD_SLOTS"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PlatformSlotMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if "download_slot" in request.meta:
            return
        host = urlsplit(request.url).hostname or ""
        if host in self.own_slots:
            return
        request.meta["download_slot"] = platform_key(host, self.groups)
