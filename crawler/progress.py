"""A live progress display per site while a crawl runs (stderr), so a user sees it move."""

from __future__ import annotations

import sys

from scrapy import signals
from scrapy.crawler import Crawler
from twisted.internet.task import LoopingCall

from nianbao.crawler.recorder import recorder

COLUMNS = ("pages", "new", "revised", "another_copy", "unchanged", "errors")


def progress_lines(site_stats: dict[str, dict]) -> list[str]:
    """One line per site: pages fetched, reports new / revised / copies / unchanged, errors."""
    lines = []
    for site_id in sorted(k for k in site_stats if not k.startswith("_")):
        counts = site_stats[site_id]
        cells = " ".join(f"{key}={counts.get(key, 0)}" for key in COLUMNS)
        lines.append(f"  {site_id:<22} {cells}")
    return lines


class Progress:
    """Redraws the per-site lines every few seconds on a terminal; prints them on close."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.interval = crawler.settings.getfloat("NIANBAO_PROGRESS_SECONDS", 2.0)
        self.tty = sys.stderr.isatty()
        self.drawn = 0
        self.loop = LoopingCall(self.draw)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        ext = cls(crawler)
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self, spider) -> None:
        if self.tty:
            self.loop.start(self.interval, now=False)

    def draw(self) -> None:
        lines = progress_lines(recorder(self.crawler).site_stats)
        if self.drawn:
            sys.stderr.write(f"\x1b[{self.drawn}F\x1b[J")
        sys.stderr.write("\n".join(lines) + "\n")
        sys.stderr.flush()
        self.drawn = len(lines)

    def closed(self, spider) -> None:
        if self.loop.running:
            self.loop.stop()
