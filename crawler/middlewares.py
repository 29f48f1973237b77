"""Downloader middlewares: the guard, the page encoding and the archive.

Order matters (Scrapy calls ``process_request`` by ascending priority and ``process_response``
by descending priority; see ``crawler/settings.py``):

- ``GuardMiddleware`` (50): scope, address, per-site budget and trap rules for every request,
  redirect hops included, before robots.txt or anything else is asked for.
- ``EncodingMiddleware`` (820): the text of a page decoded as the site entry says, or as its
  bytes show when the server's declaration lies.
- ``RenderMiddleware`` (830, ``crawler/render.py``): Chromium where the site or a challenge
  needs it.
- ``FreshnessMiddleware`` (840, ``crawler/freshness.py``): conditional requests and answers
  from the archive.
- ``ArchiveMiddleware`` (970): every response, as it came off the wire, into the WARC files.
"""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse

from nianbao.crawler import meta
from nianbao.crawler.addresses import allowance, forbidden_address
from nianbao.crawler.archiving import archive_response
from nianbao.crawler.links import is_calendar_like
from nianbao.crawler.meta import Role
from nianbao.crawler.services import CrawlServices, configured_sites, services
from nianbao.crawler.vantage import Ways
from nianbao.parsers.encoding import decode_page


class Refused(IgnoreRequest):
    """A request nianbao will not send; ``reason`` is the failure code stored for it."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class GuardMiddleware:
    """Refuse what a polite, safe crawler must not fetch, with a reason for each refusal."""

    def __init__(self, crawler: Crawler):
        conf = crawler.settings
        self.sites = configured_sites(conf)
        self.ways = Ways.from_settings(conf)  # the machine's proxy, or a region's
        self.allowed = frozenset(conf.getlist("NIANBAO_ALLOWED_PRIVATE_HOSTS"))
        self.budget = conf.getint("NIANBAO_MAX_PAGES_PER_SITE")
        self.max_queries_per_path = conf.getint("NIANBAO_MAX_QUERIES_PER_PATH", 20)
        self.spent: dict[str, int] = defaultdict(int)
        self.queries: dict[tuple[str, str], set[str]] = defaultdict(set)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> GuardMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        site = self.sites.get(request.meta.get(meta.SITE, ""))
        judged_for = site or self.sites.get(request.meta.get(meta.GUARD_FOR, ""))
        way = self.ways.of(judged_for.region if judged_for else request.meta.get(meta.REGION))
        why = forbidden_address(request.url, allowance(
            self.allowed, judged_for.allow_private if judged_for else ()),
            via_proxy=bool(way.proxy))
        if why:
            raise Refused("dns" if "does not resolve" in why else "forbidden-address", why)
        if way.proxy and not request.meta.get("playwright"):
            request.meta.setdefault("proxy", way.proxy)
        if site is None:
            return  # requests Scrapy makes on its own, for no site
        if site.politeness.get("obey_robots_txt") is False:
            request.meta["dont_obey_robotstxt"] = True
        if site.politeness.get("timeout_seconds"):
            request.meta.setdefault("download_timeout", float(site.politeness["timeout_seconds"]))
        if not site.in_scope(request.url):
            raise Refused("out-of-scope", f"{urlsplit(request.url).hostname} is not in "
                          f"{', '.join(site.domains)}")
        self._check_trap(site.id, request)
        if request.meta.get(meta.BUDGET_COUNTED):
            return
        request.meta[meta.BUDGET_COUNTED] = True
        self.spent[site.id] += 1
        if self.spent[site.id] > self.budget:
            raise Refused("budget", f"more than {self.budget} requests for site {site.id}")

    def _check_trap(self, site_id: str, request: Request) -> None:
        if request.meta.get(meta.ROLE) == Role.FEED:
            return  # a list's data endpoint pages by its query, by design
        parts = urlsplit(request.url)
        if is_calendar_like(request.url):
            raise Refused("trap", f"date-parameter link {parts.path}?{parts.query}")
        if parts.query:
            seen = self.queries[(site_id, parts.path)]
            seen.add(parts.query)
            if len(seen) > self.max_queries_per_path:
                raise Refused("trap", f"more than {self.max_queries_per_path} distinct queries "
                              f"on {parts.path}")


class EncodingMiddleware:
    """Decode pages as the site entry's ``encoding`` says; without one, trust a declared or
    detected encoding only when a strict decode gives Chinese text (``parsers/encoding.py``):
    a short GBK page without a declaration is valid UTF-8 by accident, and mojibake titles
    would hide every report on a list."""

    def __init__(self, crawler: Crawler):
        self.sites = configured_sites(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EncodingMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse) or request.meta.get(meta.RENDERED):
            return response
        site = self.sites.get(request.meta.get(meta.SITE, ""))
        if site is not None and site.encoding:
            return response.replace(encoding=site.encoding)
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1")
        if not content_type.startswith("text/html") and "<html" not in response.text[:512]:
            return response
        _, encoding = decode_page(response.body, content_type or None)
        if " " in encoding or encoding.replace("-", "").lower() == response.encoding.replace(
                "-", "").lower():
            return response
        return response.replace(encoding=encoding)


class ArchiveMiddleware:
    """Every response from the wire goes into the WARC archive before anything else sees it."""

    def __init__(self, crawler: Crawler, services: CrawlServices):
        self.crawler = crawler
        self.services = services

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveMiddleware:
        return cls(crawler, services(crawler))

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("playwright_page") is not None or "nianbao:rendered" in response.flags:
            return response  # archived by RenderMiddleware once the page has settled
        if request.meta.get(meta.UNCHANGED):
            return response  # not from the wire: the archive's own copy
        try:
            archive_response(self.services.archive, request, response)
        except OSError as exc:
            raise Refused("archive", self.services.archive_failed(exc)) from None
        self.crawler.stats.inc_value("nianbao/archive/records")
        return response
