"""The crawl run as the database records it: started, per-site counts, failures, finished.

One component owns the run (a Scrapy extension), so the spider, the middlewares and the
pipeline only report what happened; whatever stops the crawl — the end of the work, a timeout,
SIGTERM — the run is closed with its statistics.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from scrapy import signals
from scrapy.crawler import Crawler

from nianbao.crawler.services import services


class CrawlRecorder:
    """Starts the crawl run when the spider opens and finishes it when the spider closes."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.run_id: int | None = None
        self.site_stats: dict[str, Counter] = defaultdict(Counter)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRecorder:
        recorder = cls(crawler)
        crawler.signals.connect(recorder.opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.closed, signal=signals.spider_closed)
        return recorder

    @property
    def store(self):
        return services(self.crawler).store

    def opened(self) -> None:
        """Mark runs a killed crawler left 'running' as interrupted, register the sites, and
        start this run."""
        sites = services(self.crawler).sites
        self.store.interrupted_runs_cleanup()
        for site in sites.values():
            self.store.upsert_site(site.id, site.name, site.region, site.raw,
                                   [i.as_dict() for i in site.issuers])
            self.site_stats[site.id]["started"] = 1
        self.run_id = self.store.start_run(list(sites))

    def closed(self, reason: str) -> None:
        """Write the run's per-site statistics; a run that did not end by itself is
        'interrupted', with the reason Scrapy gives (timeout, shutdown…)."""
        if self.run_id is None:
            return
        received = self.crawler.stats.get_value("downloader/response_bytes", 0)
        stats: dict[str, dict] = {k: dict(v) for k, v in self.site_stats.items()}
        if reason != "finished":
            stats["_close_reason"] = {"reason": reason}
        status = "finished" if reason == "finished" else "interrupted"
        self.store.finish_run(self.run_id, status, stats, received)

    def count(self, site_id: str, key: str, n: int = 1) -> None:
        self.site_stats[site_id][key] += n

    def fail(self, site_id: str, url: str, reason: str, detail: str) -> None:
        """A URL that could not be fetched or used, with its reason; the crawl goes on."""
        self.count(site_id, "errors")
        self.count(site_id, f"error:{reason}")
        self.store.record_failure(self.run_id, site_id, url, reason, detail)


def recorder(crawler: Crawler) -> CrawlRecorder:
    found = crawler.get_extension(CrawlRecorder)
    if found is None:
        raise RuntimeError("nianbao.crawler.recorder.CrawlRecorder is not in EXTENSIONS")
    return found
