"""How far a running crawl is: sites done / total, pages, reports stored, time left.

On a terminal a tqdm bar is redrawn in place on stderr; off a terminal (cron, a log file, the
scheduler's pipe) one heartbeat line is written every ``crawl.heartbeat_seconds``, so a log
shows the crawl is alive without a line per page.

A site is done when none of its work is open: every request made for it answered (its
callback or errback has run, the items it gave stored) and nothing left in the queue. Scrapy
keeps no such count per site, so :class:`SiteLedger` keeps it from Scrapy's own extension
points: each request the spider makes gets a token in its meta when it is scheduled; a retry
or redirect carries the token on; the token is closed when the spider has handled the answer
(:class:`LedgerSpiderMiddleware`), when the request fails before reaching the spider
(:class:`LedgerDownloaderMiddleware`) or when the duplicate filter drops it; a challenge's
visit in the browser carries the token of the request it is made for. A failure raised while
a middleware reads an answer (a challenge the browser could not pass) closes nothing: that
site then stays open until the crawl ends, so the count of done sites can lag behind, never
run ahead.
"""

from __future__ import annotations

import sys
import time
import weakref
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from itertools import count
from typing import TYPE_CHECKING, Any, ClassVar, TextIO

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.internet.task import LoopingCall

from nianbao.crawler import meta
from nianbao.crawler.recorder import recorder
from nianbao.crawler.services import services
from nianbao.settings import settings

if TYPE_CHECKING:
    from tqdm import tqdm

SPIDER_MADE = "spider"  # meta.WORK's value on a request the spider has just made
REDRAW_SECONDS = 0.5  # how often the terminal bar reads the ledger and the counters
STORED = ("new", "revised", "another_copy")  # outcomes that store a version


class SiteLedger:
    """Open work per site: tokens of requests not yet handled, items not yet stored."""

    _of: ClassVar[weakref.WeakKeyDictionary[Crawler, SiteLedger]] = weakref.WeakKeyDictionary()

    def __init__(self) -> None:
        self.open: defaultdict[str, set[int]] = defaultdict(set)
        self.items: Counter[str] = Counter()
        self.begun: set[str] = set()
        self.tokens = count()

    @classmethod
    def of(cls, crawler: Crawler) -> SiteLedger:
        """The crawler's ledger, shared by the extension and the two middlewares."""
        return cls._of.setdefault(crawler, cls())

    def scheduled(self, request: Request) -> None:
        """A new request opens work for its site; a retry or redirect of one carries its token."""
        site = request.meta.get(meta.SITE)
        if site is None or request.meta.get(meta.WORK, SPIDER_MADE) != SPIDER_MADE:
            return
        token = next(self.tokens)
        request.meta[meta.WORK] = (site, token)
        self.open[site].add(token)
        self.begun.add(site)

    def finished(self, request: Request) -> None:
        site, token = request.meta.get(meta.WORK) or (None, None)
        if site is not None:
            self.open[site].discard(token)

    def done(self, site_id: str) -> bool:
        return site_id in self.begun and not self.open[site_id] and not self.items[site_id]

    def item_started(self, item: Any, response: Response) -> None:
        self.items[_site_of(item, response)] += 1

    def item_finished(self, item: Any, response: Response | None = None, **kwargs: Any) -> None:
        """Connected to item_scraped, item_dropped and item_error."""
        self.items[_site_of(item, response)] -= 1

    @staticmethod
    def spider_made(entry: Any) -> None:
        """A request the spider makes is new work, even when it copies its parent's meta."""
        if isinstance(entry, Request):
            entry.meta[meta.WORK] = SPIDER_MADE


class LedgerSpiderMiddleware:
    """Closes a request's work once the spider has handled its answer (callback, or errback
    for an HTTP error) and marks what the spider yields: requests as new work, items as open
    until the pipeline has stored them."""

    def __init__(self, crawler: Crawler):
        self.ledger = SiteLedger.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LedgerSpiderMiddleware:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for entry in start:
            self.ledger.spider_made(entry)
            yield entry

    async def process_spider_output(self, response: Response, result: AsyncIterator[Any]
                                    ) -> AsyncIterator[Any]:
        try:
            async for entry in result:
                self.ledger.spider_made(entry)
                if not isinstance(entry, Request):
                    self.ledger.item_started(entry, response)
                yield entry
        finally:
            self.ledger.finished(response.request)


class LedgerDownloaderMiddleware:
    """Closes a request's work when it fails before reaching the spider (refused, robots.txt,
    DNS, timeout once retries are spent). Placed outermost, it hears only of failures that no
    other middleware turned into a retry."""

    def __init__(self, crawler: Crawler):
        self.ledger = SiteLedger.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LedgerDownloaderMiddleware:
        return cls(crawler)

    def process_exception(self, request: Request, exception: Exception) -> None:
        self.ledger.finished(request)


def _site_of(item: Any, response: Response | None) -> str:
    """The site an item belongs to: its own ``site_id``, else its response's."""
    site = getattr(item, "site_id", None)
    if site is None and response is not None:
        site = response.meta.get(meta.SITE)
    return site or ""


@dataclass(frozen=True)
class Snapshot:
    sites: int
    sites_done: int
    pages: int
    stored: int
    elapsed: float

    def remaining(self) -> float | None:
        """Seconds left at the pace of the sites done so far (None before the first one)."""
        if not self.sites_done:
            return None
        return self.elapsed / self.sites_done * (self.sites - self.sites_done)

    def heartbeat(self) -> str:
        head = (f"crawl: {self.sites_done}/{self.sites} sites done, {self.pages} pages, "
                f"{self.stored} reports stored")
        elapsed = clock(self.elapsed)
        if self.sites_done == self.sites:
            return f"{head} in {elapsed}"
        left = self.remaining()
        eta = "time left unknown" if left is None else f"about {clock(left)} left"
        return f"{head}, {elapsed} elapsed, {eta}"


def snapshot(crawler: Crawler, ledger: SiteLedger, started: float,
             finished: bool = False) -> Snapshot:
    """The figures shown, read from the run's per-site counters and the ledger (the one place
    that knows where those counters live). A crawl that finished has done every site."""
    stats = recorder(crawler).site_stats
    sites = list(services(crawler).sites)
    return Snapshot(
        sites=len(sites),
        sites_done=len(sites) if finished else sum(1 for s in sites if ledger.done(s)),
        pages=sum(stats.get(s, {}).get("pages", 0) for s in sites),
        stored=sum(stats.get(s, {}).get(key, 0) for s in sites for key in STORED),
        elapsed=time.monotonic() - started,
    )


def clock(seconds: float) -> str:
    """``[H:]MM:SS``, as tqdm shows a time (tqdm itself is imported only for a terminal's bar:
    a crawl off a terminal does not pay its import)."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:d}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class Progress:
    """The display: a bar on a terminal, a heartbeat line elsewhere (both on stderr)."""

    def __init__(self, crawler: Crawler, stream: TextIO | None = None):
        self.crawler = crawler
        self.ledger = SiteLedger.of(crawler)
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.interval = (REDRAW_SECONDS if self.tty
                         else float(settings()["crawl"]["heartbeat_seconds"]))
        self.loop = LoopingCall(self.show)
        self.bar: tqdm | None = None
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        ext = cls(crawler)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.ledger.scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(ext.ledger.finished, signal=signals.request_dropped)
        for signal in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(ext.ledger.item_finished, signal=signal)
        return ext

    def opened(self, spider) -> None:
        self.started = time.monotonic()
        if self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=len(services(self.crawler).sites), file=self.stream, smoothing=0,
                            dynamic_ncols=True, bar_format="crawl {n_fmt}/{total_fmt} sites "
                                                           "|{bar}| {desc} [{elapsed}<{remaining}]")
        self.loop.start(self.interval, now=False)

    def show(self, finished: bool = False) -> None:
        now = snapshot(self.crawler, self.ledger, self.started, finished)
        if self.bar is None:
            self.stream.write(now.heartbeat() + "\n")
            self.stream.flush()
            return
        self.bar.n = now.sites_done
        self.bar.set_description_str(f"{now.pages} pages · {now.stored} reports stored")

    def closed(self, spider, reason: str) -> None:
        if self.loop.running:
            self.loop.stop()
        self.show(finished=reason == "finished")
        if self.bar is not None:
            self.bar.close()
