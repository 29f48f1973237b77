"""Scrapy's AutoThrottle under nianbao's politeness settings.

Scrapy's own AutoThrottle is on or off for a whole crawl, never lowers a delay on a non-200
answer and floors every host's delay at the global ``DOWNLOAD_DELAY``. For a monitor that
revisits portals, those three rules are wrong:

- a **304 Not Modified** is the fast success an unchanged recrawl is made of; ignoring it kept
  an all-304 recrawl at its starting delay, slower than the first crawl;
- a site's own ``politeness.delay_seconds`` (its download slot's delay) is the floor for that
  site, so AutoThrottle can slow a fragile county portal down but never speed it past what its
  entry asks;
- a site's ``politeness.autothrottle`` turns the adaptation on or off for that site, whatever
  ``fetch.autothrottle`` says for the rest.
"""

from __future__ import annotations

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

SUCCESS = (200, 304)


class SiteThrottle:
    """AutoThrottle per download slot (one per host), switched and floored per site. It takes
    the place of ``scrapy.extensions.throttle.AutoThrottle`` and reads the same settings."""

    def __init__(self, crawler: Crawler):
        conf = crawler.settings
        self.crawler = crawler
        self.enabled = conf.getbool("AUTOTHROTTLE_ENABLED")
        self.slots = conf.getdict("DOWNLOAD_SLOTS")
        if not self.enabled and not any(s.get("autothrottle") for s in self.slots.values()):
            raise NotConfigured
        self.target_concurrency = conf.getfloat("AUTOTHROTTLE_TARGET_CONCURRENCY")
        if self.target_concurrency <= 0:
            raise NotConfigured("AUTOTHROTTLE_TARGET_CONCURRENCY must be higher than 0")
        self.min_delay = conf.getfloat("DOWNLOAD_DELAY")
        self.max_delay = conf.getfloat("AUTOTHROTTLE_MAX_DELAY")
        self.start_delay = max(self.min_delay, conf.getfloat("AUTOTHROTTLE_START_DELAY"))
        crawler.signals.connect(self._spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self._response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteThrottle:
        return cls(crawler)

    def _spider_opened(self, spider) -> None:
        if self.enabled:  # new slots start at AutoThrottle's start delay, as in Scrapy
            self.crawler.engine.downloader._delay = self.start_delay

    def _spider_closed(self, spider) -> None:
        """Each host's last delay, in the crawl's statistics: which portals were slowed down."""
        for key, slot in self.crawler.engine.downloader.slots.items():
            self.crawler.stats.set_value(f"nianbao/throttle/delay_ms/{key}",
                                         round(slot.delay * 1000))

    def _response_downloaded(self, response: Response, request: Request, spider) -> None:
        key = request.meta.get("download_slot")
        latency = request.meta.get("download_latency")
        slot = self.crawler.engine.downloader.slots.get(key) if key is not None else None
        if slot is None or latency is None or request.meta.get("autothrottle_dont_adjust_delay"):
            return
        site = self.slots.get(key, {})
        if site.get("autothrottle", self.enabled):
            slot.delay = self.next_delay(slot.delay, latency, response.status,
                                         float(site.get("delay", self.min_delay)))

    def next_delay(self, delay: float, latency: float, status: int, floor: float) -> float:
        """Scrapy's policy (half-way to latency / target concurrency, never below that target),
        with a 304 counted as a success and the site's own delay as the floor."""
        target = latency / self.target_concurrency
        new_delay = max(floor, min(max(target, (delay + target) / 2.0), self.max_delay))
        # An error page (or a redirect) is small and fast: it must not lower the delay.
        if status not in SUCCESS and new_delay <= delay:
            return delay
        return new_delay
