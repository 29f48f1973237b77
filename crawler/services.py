"""What every component of one crawl shares — its sites, its store, its archive — built from
the crawler's settings, as Scrapy builds its own components.

``nianbao crawl`` and ``scrapy crawl reports -a site=…`` reach the same services through the
same settings (``NIANBAO_DATABASE_URL``, ``NIANBAO_ARCHIVE_DIR``, ``NIANBAO_SITES_FILE``,
``NIANBAO_SITES``); nothing is handed out by the spider.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings
from scrapy.utils.defer import deferred_from_coro

from nianbao.sites import Site, load_sites, select_sites


@cache
def _sites(path: str, mtime: float, ids: tuple[str, ...]) -> dict[str, Site]:
    return {site.id: site for site in select_sites(load_sites(Path(path)), list(ids))}


def configured_sites(settings: BaseSettings) -> dict[str, Site]:
    """The sites this crawl covers: ``NIANBAO_SITES`` (ids; all when empty) of the sites file
    ``NIANBAO_SITES_FILE``, by id. Raises ``SitesError`` naming the line and field at fault."""
    path = Path(settings["NIANBAO_SITES_FILE"])
    mtime = path.stat().st_mtime if path.exists() else 0.0
    return _sites(str(path), mtime, tuple(settings.getlist("NIANBAO_SITES")))


ARCHIVE_FAILED = "archive-failed"  # the close reason of a crawl whose archive failed


class CrawlServices:
    """The store and the WARC archive of one crawl (a Scrapy extension: one per crawler).

    Other components get it with ``crawler.get_extension(CrawlServices)``. The archive is
    closed when the spider closes, after the last item has been stored.
    """

    def __init__(self, crawler: Crawler):
        from nianbao.archive.warc import WarcArchive
        from nianbao.storage.db import connect, database_url, migrate
        from nianbao.storage.store import Store

        conf = crawler.settings
        self.sites = configured_sites(conf)
        engine = connect(database_url(conf.get("NIANBAO_DATABASE_URL")))
        migrate(engine)
        self.store = Store(engine)
        self.crawler = crawler
        self.archive_dir = Path(conf["NIANBAO_ARCHIVE_DIR"])
        self.archive = WarcArchive(self.archive_dir, conf.getint("NIANBAO_WARC_MAX_MB") * 2**20)
        self.archive_error: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlServices:
        services = cls(crawler)
        crawler.signals.connect(services.close, signal=signals.spider_closed)
        return services

    def close(self) -> None:
        self.archive.close()

    def archive_failed(self, exc: OSError) -> str:
        """The archive can no longer be written (disk full, file system remounted read-only):
        nothing fetched from now on could be kept, so the crawl stops, and its run is recorded
        as failed with this reason (``crawler/recorder.py``). Returns the reason."""
        if self.archive_error is None:
            self.archive_error = (f"the archive directory {self.archive_dir} cannot be "
                                  f"written ({exc.strerror or exc})")
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=ARCHIVE_FAILED))
        return self.archive_error


def services(crawler: Crawler) -> CrawlServices:
    """The crawl's services; an error naming the setting when the extension is not enabled."""
    found = crawler.get_extension(CrawlServices)
    if found is None:
        raise RuntimeError("nianbao.crawler.services.CrawlServices is not in EXTENSIONS")
    return found
