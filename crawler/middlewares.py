"""Downloader middlewares: the guard, the browser switch, incremental requests and the archive.

Order matters (Scrapy calls ``process_request`` by ascending priority and ``process_response``
by descending priority; see ``crawler/settings.py``):

- ``GuardMiddleware`` (50): scope, address, per-site budget and trap rules for every request,
  redirect hops included, before robots.txt or anything else is asked for.
- ``RenderMiddleware`` (830): sends a request to Chromium when the site or a challenge needs it
  and turns the browser's page into a plain response.
- ``IncrementalMiddleware`` (840): conditional requests, and a 304 answered from the archive.
- ``ArchiveMiddleware`` (970): every response, as it came off the wire, into the WARC files.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response

from nianbao.crawler.addresses import forbidden_address
from nianbao.crawler.archiving import archive_response, browser_label
from nianbao.crawler.browser import browser_rss_mb
from nianbao.crawler.challenges import challenge_kind
from nianbao.crawler.links import is_calendar_like

logger = logging.getLogger(__name__)


class Refused(IgnoreRequest):
    """A request nianbao will not send; ``reason`` is the failure code stored for it."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class _SpiderBound:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler):
        return cls(crawler)

    @property
    def spider(self):
        return self.crawler.spider


class GuardMiddleware(_SpiderBound):
    """Refuse what a polite, safe crawler must not fetch, with a reason for each refusal."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        conf = crawler.settings
        self.proxy = conf.get("NIANBAO_PROXY")
        self.allowed = frozenset(conf.getlist("NIANBAO_ALLOWED_PRIVATE_HOSTS"))
        self.budget = conf.getint("NIANBAO_MAX_PAGES_PER_SITE")
        self.max_queries_per_path = conf.getint("NIANBAO_MAX_QUERIES_PER_PATH", 20)
        self.spent: dict[str, int] = defaultdict(int)
        self.queries: dict[tuple[str, str], set[str]] = defaultdict(set)

    def process_request(self, request: Request) -> None:
        site = self.spider.sites.get(request.meta.get("site_id", ""))
        allowed = self.allowed | frozenset(site.allow_private if site else ())
        why = forbidden_address(request.url, allowed, via_proxy=bool(self.proxy))
        if why:
            raise Refused("dns" if "does not resolve" in why else "forbidden-address", why)
        if self.proxy and not request.meta.get("playwright"):
            request.meta.setdefault("proxy", self.proxy)
        if site is None:
            return  # robots.txt and other requests Scrapy makes on its own
        if site.politeness.get("obey_robots_txt") is False:
            request.meta["dont_obey_robotstxt"] = True
        if site.politeness.get("timeout_seconds"):
            request.meta.setdefault("download_timeout", float(site.politeness["timeout_seconds"]))
        if not site.in_scope(request.url):
            raise Refused("out-of-scope", f"{urlsplit(request.url).hostname} is not in "
                          f"{', '.join(site.domains)}")
        self._check_trap(site.id, request)
        if request.meta.get("budget_counted"):
            return
        request.meta["budget_counted"] = True
        self.spent[site.id] += 1
        if self.spent[site.id] > self.budget:
            raise Refused("budget", f"more than {self.budget} requests for site {site.id}")

    def _check_trap(self, site_id: str, request: Request) -> None:
        if request.meta.get("kind") in ("hanweb", "gkmlpt"):
            return
        parts = urlsplit(request.url)
        if is_calendar_like(request.url):
            raise Refused("trap", f"date-parameter link {parts.path}?{parts.query}")
        if parts.query:
            seen = self.queries[(site_id, parts.path)]
            seen.add(parts.query)
            if len(seen) > self.max_queries_per_path:
                raise Refused("trap", f"more than {self.max_queries_per_path} distinct queries "
                              f"on {parts.path}")


class RenderMiddleware(_SpiderBound):
    """Use Chromium only where needed, and hand its result back as an ordinary response.

    A challenge (412/521/wzws) on a site in ``auto`` or ``always`` mode is solved once per host
    in the browser; its cookies then go to Scrapy's cookie jar so the rest of the host is
    fetched plainly, as real bytes. If the host still challenges plain requests, its pages are
    taken from the browser from then on.
    """

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        conf = crawler.settings
        self.context = conf.getdict("NIANBAO_BROWSER_CONTEXT")
        self.timeout = conf.getfloat("NIANBAO_RENDER_TIMEOUT")
        self.memory_limit = conf.getint("NIANBAO_BROWSER_MEMORY_MB")
        self.render_hosts: set[str] = set()
        self.solving: set[str] = set()
        self.solved_hosts: dict[str, set[str]] = {}

    def process_request(self, request: Request) -> None:
        site = self.spider.sites.get(request.meta.get("site_id", ""))
        if request.meta.get("playwright"):
            return
        if site is None or request.meta.get("kind") in ("attachment", "hanweb", "gkmlpt"):
            return
        host = urlsplit(request.url).hostname
        if site.render == "always" or request.meta.get("render") or host in self.render_hosts:
            _to_browser(request, self.context)

    async def process_response(self, request: Request, response: Response):
        page = request.meta.get("playwright_page")
        if page is not None:
            return await self._from_browser(request, response, page)
        site = self.spider.sites.get(request.meta.get("site_id", ""))
        kind = challenge_kind(response.status, lower_headers(response), response.url,
                              response.body)
        if not kind or site is None:
            return response
        self.crawler.stats.inc_value(f"nianbao/challenge/{kind}")
        request.meta["challenge"] = kind
        host = urlsplit(request.url).hostname or ""
        if site.render == "never":
            return response
        waited = request.meta.get("challenge_waits", 0)
        sent_cookie = (request.headers.get("Cookie") or b"").decode("latin-1")
        cookie_names = self.solved_hosts.get(host, set())
        if (host in self.solving or (host in self.solved_hosts and not any(
                name in sent_cookie for name in cookie_names))) and waited < 5:
            # Sent before the browser's cookies were in the jar: ask again with them.
            await asyncio.sleep(1.0 if host in self.solving else 0)
            retry = request.replace(dont_filter=True, priority=request.priority - 1)
            retry.meta["challenge_waits"] = waited + 1
            return retry
        if host in self.solved_hosts:
            # The browser's cookies were not enough: take this host's pages from Chromium.
            if request.meta.get("kind") == "attachment":
                return response
            self.render_hosts.add(host)
            retry = request.replace(dont_filter=True)
            _to_browser(retry, self.context)
            return retry
        redirected = request.meta.get("redirect_urls")
        if redirected:  # challenged via a redirect (wzws): ask again for the page itself
            request = request.replace(url=redirected[0])
            for key in ("redirect_urls", "redirect_times", "redirect_ttl", "redirect_reasons"):
                request.meta.pop(key, None)
        parts = urlsplit(request.url)
        solve = Request(
            f"{parts.scheme}://{parts.netloc}/", callback=request.callback,
            errback=request.errback, dont_filter=True,
            meta={"site_id": site.id, "kind": "solve", "solve_for": request,
                  "budget_counted": True},
        )
        _to_browser(solve, self.context)
        self.solving.add(host)
        return solve

    async def _from_browser(self, request: Request, response: Response, page) -> Response | Request:
        try:
            html = await _settled_content(page, self.timeout)
            status = await _document_status(page)
            cookies = await page.context.cookies()
            url = page.url or request.url
            if browser_rss_mb() > self.memory_limit:
                logger.warning("browser over %s MB: closing its context", self.memory_limit)
                self.crawler.stats.inc_value("nianbao/browser/context_restarts")
                await page.context.close()
        finally:
            if not page.is_closed():
                await page.close()
        still = challenge_kind(200, {}, url, html.encode("utf-8"))
        original = request.meta.get("solve_for")
        if original is not None:
            host = urlsplit(request.url).hostname or ""
            self.solving.discard(host)
            self.solved_hosts[host] = {c["name"] for c in cookies}
            if still:
                raise Refused("challenge", f"the browser did not pass the {still} challenge")
            # With their domain and path, so the whole host (attachments too) gets them.
            jar = [{key: c[key] for key in ("name", "value", "domain", "path", "secure")}
                   for c in cookies]
            return original.replace(dont_filter=True, cookies=jar)
        rendered = HtmlResponse(
            url=url, status=response.status if still else status or 200,
            body=html.encode("utf-8"),
            encoding="utf-8", request=request,
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
        request.meta["rendered"] = True
        archive_response(self.spider, request, rendered, rendered_by=browser_label(page))
        return rendered


def _to_browser(request: Request, context: dict) -> None:
    """Route ``request`` to Chromium. Validators go: a 304 is no page to render. The browser
    context's options travel with the request: Chromium starts with the first page to render
    (none for most crawls), and a context closed for memory comes back with the same options."""
    for name in ("If-None-Match", "If-Modified-Since"):
        request.headers.pop(name, None)
    request.meta.pop("previous", None)
    request.meta.update(playwright=True, playwright_include_page=True,
                        playwright_context="render", playwright_context_kwargs=context)


async def _settled_content(page, timeout: float) -> str:
    """The page's DOM once scripts have drawn it and any challenge reload has happened."""
    deadline = asyncio.get_running_loop().time() + timeout
    html = await page.content()
    while asyncio.get_running_loop().time() < deadline:
        with contextlib.suppress(Exception):
            await page.wait_for_load_state("networkidle", timeout=max(timeout / 4, 1) * 1000)
        html = await page.content()
        if not challenge_kind(200, {}, page.url, html.encode("utf-8")):
            return html
        await asyncio.sleep(0.3)
    return html


async def _document_status(page) -> int | None:
    """The HTTP status of the document now shown (after any challenge reload): a page that
    answers 404 must stay a 404 when Chromium renders it, not become a soft 404."""
    with contextlib.suppress(Exception):
        status = await page.evaluate(
            "() => (performance.getEntriesByType('navigation')[0] || {}).responseStatus || 0")
        return int(status) or None
    return None


def lower_headers(response: Response) -> dict[str, str]:
    """Header names lower-cased, repeated values joined: what ``challenge_kind`` reads."""
    return {
        k.decode("latin-1").lower(): b", ".join(v).decode("latin-1")
        for k, v in response.headers.items()
    }


class IncrementalMiddleware(_SpiderBound):
    """Ask with ETag / Last-Modified; answer a 304 from the archived copy of the last body."""

    KINDS = ("list", "detail", "attachment", "discover")

    def process_request(self, request: Request) -> None:
        if request.meta.get("kind") not in self.KINDS or request.meta.get("playwright"):
            return
        state = self.spider.store.resource(request.url)
        if state is None or not state.warc_pointer:
            return
        request.meta["previous"] = state
        if state.etag:
            request.headers.setdefault("If-None-Match", state.etag)
        if state.last_modified:
            request.headers.setdefault("If-Modified-Since", state.last_modified)

    def process_response(self, request: Request, response: Response) -> Response:
        state = request.meta.get("previous")
        if response.status != 304 or state is None:
            return response
        from nianbao.archive.pointer import WarcPointer
        from nianbao.archive.reader import read_payload

        body = read_payload(self.spider.archive_dir, WarcPointer.from_dict(state.warc_pointer))
        self.crawler.stats.inc_value("nianbao/not_modified")
        request.meta["not_modified"] = True
        request.meta["warc"] = state.warc_pointer
        headers = {"Content-Type": state.content_type} if state.content_type else {}
        for name, value in (("ETag", state.etag), ("Last-Modified", state.last_modified)):
            fresh = response.headers.get(name)
            if fresh or value:
                headers[name] = fresh.decode("latin-1") if fresh else value
        cls = HtmlResponse if (state.content_type or "").startswith("text/html") else Response
        return cls(url=response.url, status=200, body=body, headers=headers, request=request)


class ArchiveMiddleware(_SpiderBound):
    """Every response from the wire goes into the WARC archive before anything else sees it."""

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("playwright_page") is not None:
            return response  # archived by RenderMiddleware once the page has settled
        archive_response(self.spider, request, response)
        return response
