"""Run one discovery walk (``crawler/spiders/discover.py``) in this process and return its tree.

The walk uses the crawl's own Scrapy settings — address guard, robots.txt, per-platform slots,
the archive of every page it read — without the parts that belong to a report crawl: no crawl
run is recorded, nothing is parsed or stored as a report.
"""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy.crawler import CrawlerProcess

from nianbao.crawler.portal_tree import Tree
from nianbao.crawler.run import CrawlOptions, scrapy_settings

# Components of a report crawl a walk goes without (merged into the project's settings).
WITHOUT = {
    "EXTENSIONS": ("nianbao.crawler.recorder.CrawlRecorder", "nianbao.crawler.progress.Progress"),
    "ITEM_PIPELINES": ("nianbao.crawler.pipelines.StorePipeline",),
    "SPIDER_MIDDLEWARES": ("nianbao.crawler.progress.LedgerSpiderMiddleware",),
    "DOWNLOADER_MIDDLEWARES": ("nianbao.crawler.progress.LedgerDownloaderMiddleware",
                               "nianbao.crawler.freshness.FreshnessMiddleware"),
}


def run_discovery(options: CrawlOptions, seeds: Path, provinces: list[str]) -> Tree:
    """Walk from the seeds (only ``provinces`` when given); the tree of what was found."""
    from nianbao.crawler.spiders.discover import DiscoverSpider

    overrides = {"NIANBAO_DISCOVER_SEEDS": str(seeds), **(options.overrides or {})}
    conf = scrapy_settings(CrawlOptions(**{**options.__dict__, "overrides": overrides}))
    for name, components in WITHOUT.items():
        conf.set(name, {**conf.getdict(name), **dict.fromkeys(components)}, priority="cmdline")
    logging.getLogger("scrapy").setLevel(options.log_level)
    process = CrawlerProcess(conf)
    crawler = process.create_crawler(DiscoverSpider)
    process.crawl(crawler, provinces=",".join(provinces))
    process.start()
    return crawler.spider.tree
