"""Chromium where it is needed, handed back to Scrapy as an ordinary response.

A page goes to the browser when its site says ``render: always``, when the spider asks for it
(a list drawn by JavaScript), or when its host challenges plain clients. A challenge (412, 521,
wzws…) on a site in ``auto`` or ``always`` mode is solved once per host in the browser; its
cookies then go to Scrapy's cookie jar so the rest of the host is fetched plainly, as real
bytes. If the host still challenges plain requests, its pages are taken from the browser from
then on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Response

from nianbao.crawler import meta
from nianbao.crawler.addresses import allowance
from nianbao.crawler.archiving import archive_response, browser_label
from nianbao.crawler.browser import browser_rss_mb
from nianbao.crawler.browser_guard import document_refusal, rules
from nianbao.crawler.browser_proxy import PinningProxy
from nianbao.crawler.challenges import NAMES, challenge_kind
from nianbao.crawler.meta import Role
from nianbao.crawler.middlewares import Refused
from nianbao.crawler.responses import lower_headers
from nianbao.crawler.services import CrawlServices, configured_sites, services
from nianbao.crawler.vantage import Way, Ways

logger = logging.getLogger(__name__)

GUARD_PAGE = "nianbao.crawler.browser_guard.guard_page"
# What Playwright says when a page is read while it navigates (scrapy-playwright reads it).
NAVIGATING = "page is navigating and changing the content"
RENDERED_FLAG = "nianbao:rendered"  # a response RenderMiddleware made from a browser page
STEP_SECONDS = 10.0  # the most a single browser step (cookies, status, close) may take
# What a SOLVE visit keeps of the request it is made for: its site, and its open work (progress).
_CARRIED = (meta.SITE, meta.WORK, meta.SOLVE_ANY, meta.REGION)  # the visit goes the same way


class RenderMiddleware:
    """Send requests to Chromium when needed and turn its page into a plain response."""

    def __init__(self, crawler: Crawler, services: CrawlServices):
        conf = crawler.settings
        self.crawler = crawler
        self.sites = configured_sites(conf)
        self.services = services
        self.context = conf.getdict("NIANBAO_BROWSER_CONTEXT")
        self.timeout = conf.getfloat("NIANBAO_RENDER_TIMEOUT")
        self.memory_limit = conf.getint("NIANBAO_BROWSER_MEMORY_MB")
        self.allowed = frozenset(conf.getlist("NIANBAO_ALLOWED_PRIVATE_HOSTS"))
        self.via_proxy = bool(conf.get("NIANBAO_PROXY"))
        self.ways = Ways.from_settings(conf)  # a region's own proxy: a browser context of its own
        self.proxy: PinningProxy | None = None  # started with the first page to render
        self.render_hosts: set[str] = set()
        self.solving: set[str] = set()
        self.solved_hosts: dict[str, set[str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RenderMiddleware:
        middleware = cls(crawler, services(crawler))
        crawler.signals.connect(middleware.close_proxy, signal=signals.spider_closed)
        return middleware

    def close_proxy(self) -> None:
        if self.proxy is not None:
            self.proxy.close()
            self.proxy = None

    def process_request(self, request: Request) -> None:
        site = self.sites.get(request.meta.get(meta.SITE, ""))
        if request.meta.get("playwright"):
            return
        if site is None or request.meta.get(meta.ROLE) in (Role.ATTACHMENT, Role.FEED):
            return
        host = urlsplit(request.url).hostname
        if site.render == "always" or request.meta.get(meta.RENDER) or host in self.render_hosts:
            self._to_browser(request)

    def _allowance(self, request: Request) -> frozenset[str]:
        site = self.sites.get(request.meta.get(meta.SITE, ""))
        return allowance(self.allowed, site.allow_private if site else ())

    def _way(self, request: Request) -> Way:
        site = self.sites.get(request.meta.get(meta.SITE, ""))
        return self.ways.of(site.region if site else request.meta.get(meta.REGION))

    def _wait_for(self, request: Request) -> str | None:
        site = self.sites.get(request.meta.get(meta.SITE, ""))
        return request.meta.get(meta.WAIT_FOR) or (site.selectors.get("wait_for")
                                                   if site else None)

    def _to_browser(self, request: Request) -> None:
        """Route ``request`` to Chromium, judged inside the browser by its site's allowance.
        Without an upstream proxy, the pages' proxy is the local pinning proxy
        (``browser_proxy.py``); every host, loopback included, goes through it. A region with
        a proxy of its own has a browser context of its own, with that proxy.

        The page is waited for (scripts drawn, a challenge's reload done) inside the download
        (``handler.py``), so the visit holds its download slot until then: whatever Chromium
        asks the portal for in one visit counts as that one request, and the platform's next
        request keeps its delay and concurrency (settling after the download had freed the
        slot let the next request in between a challenge's first load and its reload)."""
        request.meta[meta.SETTLE] = (self.timeout, self._wait_for(request))
        way = self._way(request)
        if way.proxy and way.proxy != self.ways.default.proxy:
            context = {**self.context, "proxy": {"server": way.proxy}}
            to_browser(request, context, rules(self._allowance(request), True),
                       name=f"render:{way.proxy}")
            return
        if not self.via_proxy and self.proxy is None:
            self.proxy = PinningProxy(connect_timeout=STEP_SECONDS,
                                      idle_timeout=max(self.timeout, STEP_SECONDS))
            self.context = {**self.context, "proxy": {"server": self.proxy.start(),
                                                      "bypass": "<-loopback>"}}
        to_browser(request, self.context, rules(self._allowance(request), self.via_proxy))

    def _solve_ended(self, request: Request) -> None:
        """A SOLVE visit is over (passed or not): the host's other requests stop waiting."""
        if meta.SOLVE_FOR in request.meta:
            self.solving.discard(urlsplit(request.url).hostname or "")

    async def process_exception(self, request: Request,
                                exception: Exception) -> Response | Request | None:
        """A browser navigation the page's guard blocked is a refusal, not a browser error.
        A page that was navigating when scrapy-playwright read it (a challenge's reload racing
        the read) is read again, within the render timeout; a navigation that timed out is
        tried once more; any other failed page is closed (scrapy-playwright leaves an included
        page open, reloading forever) and its failure (a ``Refused`` from the settle, too) goes
        on to the errback."""
        page = request.meta.pop(meta.BROWSER_PAGE, None)
        refusal = next((r for r in request.meta.get(meta.BROWSER_REFUSED) or ()
                        if r.document), None)
        if page is not None and refusal is None and NAVIGATING in str(exception) \
                and not page.is_closed():
            rendered = await self._from_browser(request, None, page)
            if isinstance(rendered, Response):
                rendered.flags.append(RENDERED_FLAG)
            return rendered
        await close_page(page)
        if refusal is None and _navigation_timeout(exception) \
                and not request.meta.get(meta.BROWSER_RETRIED):
            # Tried once more, as Scrapy retries a download that timed out: a browser that
            # stalled for the navigation's whole time (a loaded machine) must not decide alone
            # that a page, or a challenge, could not be read.
            self.crawler.stats.inc_value("nianbao/browser/navigation_retries")
            retry = request.replace(dont_filter=True)
            retry.meta[meta.BROWSER_RETRIED] = True
            self._to_browser(retry)
            return retry
        self._solve_ended(request)
        if refusal is not None:
            self.crawler.stats.inc_value("nianbao/browser/refused")
            raise Refused("forbidden-address", f"in the browser, {refusal.url}: "
                          f"{refusal.why}")
        return None

    async def process_response(self, request: Request, response: Response):
        if RENDERED_FLAG in response.flags:
            return response  # made by process_exception from the browser's page
        request.meta.pop(meta.BROWSER_PAGE, None)
        page = request.meta.get("playwright_page")
        if page is not None:
            return await self._from_browser(request, response, page)
        site = self.sites.get(request.meta.get(meta.SITE, ""))
        kind = challenge_kind(response.status, lower_headers(response), response.url,
                              response.body)
        if not kind or (site is None and not request.meta.get(meta.SOLVE_ANY)):
            return response
        self.crawler.stats.inc_value(f"nianbao/challenge/{kind}")
        request.meta[meta.CHALLENGE] = kind
        host = urlsplit(request.url).hostname or ""
        if site is not None and site.render == "never":
            raise Refused("challenge", f"{NAMES[kind]} challenge; the site is set to "
                          "render: never")
        waited = request.meta.get(meta.CHALLENGE_WAITS, 0)
        sent_cookie = (request.headers.get("Cookie") or b"").decode("latin-1")
        cookie_names = self.solved_hosts.get(host, set())
        if (host in self.solving or (host in self.solved_hosts and not any(
                name in sent_cookie for name in cookie_names))) and waited < 5:
            # Sent before the browser's cookies were in the jar: ask again with them.
            await asyncio.sleep(1.0 if host in self.solving else 0)
            retry = request.replace(dont_filter=True, priority=request.priority - 1)
            retry.meta[meta.CHALLENGE_WAITS] = waited + 1
            return retry
        if host in self.solved_hosts:
            # The browser's cookies were not enough: take this host's pages from Chromium.
            if request.meta.get(meta.ROLE) == Role.ATTACHMENT:
                raise Refused("challenge", f"{NAMES[kind]} challenge again after the browser "
                              "passed it; attachments are not rendered")
            self.render_hosts.add(host)
            retry = request.replace(dont_filter=True)
            self._to_browser(retry)
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
            meta={**{key: request.meta[key] for key in _CARRIED if key in request.meta},
                  meta.ROLE: Role.SOLVE, meta.SOLVE_FOR: request,
                  meta.BUDGET_COUNTED: True},
        )
        self._to_browser(solve)
        self.solving.add(host)
        return solve

    async def _from_browser(self, request: Request, response: Response,
                            page) -> Response | Request:
        # Settled inside the download (``handler.py``); read again only after the page
        # navigated once more when scrapy-playwright read it.
        html = request.meta.pop(meta.SETTLED, None) if response is not None else None
        try:
            if html is None:
                html = await settled_content(page, self.timeout, self._wait_for(request))
            status = await document_status(page)
            cookies = await bounded(page.context.cookies(), STEP_SECONDS)
            url = page.url or request.url
            refused = await asyncio.to_thread(document_refusal, request, url,
                                              self._allowance(request),
                                              bool(self._way(request).proxy))
            parts = [r for r in request.meta.get(meta.BROWSER_REFUSED) or () if not r.document]
            if parts:
                self.crawler.stats.inc_value("nianbao/browser/refused", len(parts))
            if refused:
                self.crawler.stats.inc_value("nianbao/browser/refused")
                raise Refused("forbidden-address", f"in the browser: {refused}")
            if browser_rss_mb() > self.memory_limit:
                logger.warning("browser over %s MB: closing its context", self.memory_limit)
                self.crawler.stats.inc_value("nianbao/browser/context_restarts")
                await bounded(page.context.close(), STEP_SECONDS)
        except BaseException:
            self._solve_ended(request)
            raise
        finally:
            await close_page(page)
        rendered = HtmlResponse(
            url=url, status=status or 200, body=html.encode("utf-8"), encoding="utf-8",
            request=request, headers={"Content-Type": "text/html; charset=utf-8"},
        )
        request.meta[meta.RENDERED] = True
        try:
            archive_response(self.services.archive, request, rendered,
                             rendered_by=browser_label(page))
        except OSError as exc:
            raise Refused("archive", self.services.archive_failed(exc)) from None
        self.crawler.stats.inc_value("nianbao/archive/records")
        still = challenge_kind(rendered.status, {}, url, rendered.body)
        original = request.meta.get(meta.SOLVE_FOR)
        if original is not None:
            self._solve_ended(request)
            self.solved_hosts[urlsplit(request.url).hostname or ""] = {c["name"] for c in cookies}
        if still:
            raise Refused("challenge", f"the browser did not pass the {NAMES[still]} challenge "
                          f"within {self.timeout:g} s")
        if original is not None:
            # With their domain and path, so the whole host (attachments too) gets them.
            jar = [{key: c[key] for key in ("name", "value", "domain", "path", "secure")}
                   for c in cookies]
            return original.replace(dont_filter=True, cookies=jar)
        return rendered


def _navigation_timeout(exception: Exception) -> bool:
    """Whether a browser request failed on Playwright's navigation timeout (by its class, so
    that a crawl that renders nothing never imports Playwright)."""
    kind = type(exception)
    return kind.__name__ == "TimeoutError" and kind.__module__.startswith("playwright")


def to_browser(request: Request, context: dict, guard: dict, name: str = "render") -> None:
    """Route ``request`` to Chromium. Validators go: a 304 is no page to render. The browser
    context's options travel with the request: Chromium starts with the first page to render
    (none for most crawls), and a context closed for memory comes back with the same options.
    ``guard`` (``browser_guard.rules``) is what the page's request guard judges by."""
    for name in ("If-None-Match", "If-Modified-Since"):
        request.headers.pop(name, None)
    request.meta.pop(meta.PREVIOUS, None)
    # A request sent again (a navigation that timed out) gets a page of its own: the one it
    # had may still be open, reloading, its close refused (scrapy-playwright would reuse it).
    request.meta.pop("playwright_page", None)
    request.meta.update(playwright=True, playwright_include_page=True,
                        playwright_context=name, playwright_context_kwargs=context,
                        playwright_page_init_callback=GUARD_PAGE)
    request.meta[meta.BROWSER_RULES] = guard
    request.meta.pop(meta.BROWSER_GUARDED, None)


async def close_page(page) -> None:
    """Close ``page`` (if open), within ``STEP_SECONDS``. Its request routes go first, their
    handlers' errors ignored: a page that keeps reloading has a routed request in flight at
    any moment, and Playwright's close waits for it — some closes never ended, and the page
    stayed open, holding one of the context's page slots."""
    if page is None or page.is_closed():
        return
    with contextlib.suppress(Exception):
        await bounded(page.unroute_all(behavior="ignoreErrors"), STEP_SECONDS)
    with contextlib.suppress(Exception):
        await bounded(page.close(), STEP_SECONDS)


async def bounded(awaitable, seconds: float):
    """``awaitable``, given at most ``seconds`` (a browser step must never hang a crawl)."""
    return await asyncio.wait_for(awaitable, timeout=max(seconds, 0.1))


async def settled_content(page, timeout: float, wait_for: str | None = None) -> str:
    """The page's DOM once scripts have drawn it (and ``wait_for`` matches, when given) and
    any challenge reload has happened. Every step is bounded by ``timeout`` in all; a page
    that is navigating when read (a challenge's reload racing the read) is read again, and
    one that never holds still is refused as a ``challenge``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    html = None
    while True:
        left = deadline - loop.time()
        with contextlib.suppress(Exception):
            await bounded(page.wait_for_load_state(
                "networkidle", timeout=max(min(timeout / 4, left), 0.1) * 1000), left)
        if wait_for:
            with contextlib.suppress(Exception):
                left = deadline - loop.time()
                await bounded(page.wait_for_selector(wait_for, timeout=max(left, 0.1) * 1000),
                              left)
        # navigating, or out of time: the page did not hold still
        with contextlib.suppress(Exception):
            html = await bounded(page.content(), deadline - loop.time())
            if not challenge_kind(200, {}, page.url, html.encode("utf-8")):
                return html
        if loop.time() >= deadline:
            break
        await asyncio.sleep(0.3)
    if html is None:
        raise Refused("challenge",
                      f"the page kept reloading for {timeout:g} s and could not be read")
    return html


async def document_status(page) -> int | None:
    """The HTTP status of the document now shown (after any challenge reload): a page that
    answers 404 must stay a 404 when Chromium renders it, not become a soft 404."""
    with contextlib.suppress(Exception):
        status = await bounded(page.evaluate(
            "() => (performance.getEntriesByType('navigation')[0] || {}).responseStatus || 0"),
            STEP_SECONDS)
        return int(status) or None
    return None
