"""What every component of one crawl shares — its sites, its store, its archive — built from
the crawler's settings, as Scrapy builds its own components.

``nianbao crawl`` and ``scrapy crawl reports -a site=…`` reach the same services through the
same settings (``NIANBAO_DATABASE_URL``, ``NIANBAO_ARCHIVE_DIR``, ``NIANBAO_SITES_FILE``,
``NIANBAO_SITES``); nothing is handed out by the spider.

What no component can go on without is here too: an archive or a database that can no longer
be used stops the crawl, once, with its reason (``archive_failed``, ``database_failed``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

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
DATABASE_FAILED = "database-failed"  # … and of one whose database failed
# What says the database itself cannot be used (its disk full, its server gone, locked past
# the busy timeout, no connection to be had), not that one statement was wrong: a constraint
# or data error stays the error of the document that met it.
DATABASE_UNUSABLE = (OperationalError, InterfaceError, PoolTimeout)


def database_unusable(exc: BaseException) -> str:
    """Why the database cannot be used, with what it said in one line (the driver's message,
    not SQLAlchemy's wrapping of it with the statement and its parameters)."""
    said = str(getattr(exc, "orig", None) or exc).strip()
    return f"the database cannot be used ({said.splitlines()[0] if said else type(exc).__name__})"


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
        # what stopped the crawl, by its close reason (ARCHIVE_FAILED, DATABASE_FAILED)
        self.failures: dict[str, str] = {}

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
        return self._failed(ARCHIVE_FAILED, f"the archive directory {self.archive_dir} cannot "
                                            f"be written ({exc.strerror or exc})")

    def database_failed(self, exc: Exception) -> str:
        """The database can no longer be written or read (its disk full, its server gone):
        nothing fetched from now on could be stored, so the crawl stops instead of failing
        every document in turn. Nothing is lost: a document is remembered only with its
        version, so the next crawl fetches again whatever this one could not store. Returns
        the reason (``crawler/run.py`` gives it to the command)."""
        return self._failed(DATABASE_FAILED, database_unusable(exc))

    def _failed(self, reason: str, detail: str) -> str:
        """The first failure of its kind is kept and stops the crawl (while it runs; one that
        fails as it opens has nothing to stop: the spider then starts nothing)."""
        if reason not in self.failures:
            self.failures[reason] = detail
            if self.crawler.engine is not None and self.crawler.engine.running:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))
        return self.failures[reason]


@contextmanager
def stopping_on_database_failure(crawler: Crawler) -> Iterator[None]:
    """Around what a crawl component writes to the database outside the spider's callbacks
    (an item, a failure's record, a signal handler, the pipeline's close): a database failure
    met there stops the crawl with it (``CrawlServices.database_failed``) instead of raising —
    Scrapy would log a traceback for every page and item that follows."""
    try:
        yield
    except DATABASE_UNUSABLE as exc:
        services(crawler).database_failed(exc)


class DatabaseFailureMiddleware:
    """The same for the spider's callbacks (a spider middleware next to the spider, which
    Scrapy hands the exception rather than letting it be caught): a database failure raised
    while a page is read stops the crawl, and the page's output ends there."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DatabaseFailureMiddleware:
        return cls(crawler)

    def process_spider_exception(self, response: Any, exception: Exception) -> list | None:
        if isinstance(exception, DATABASE_UNUSABLE):
            services(self.crawler).database_failed(exception)
            return []
        return None


def services(crawler: Crawler) -> CrawlServices:
    """The crawl's services; an error naming the setting when the extension is not enabled."""
    found = crawler.get_extension(CrawlServices)
    if found is None:
        raise RuntimeError("nianbao.crawler.services.CrawlServices is not in EXTENSIONS")
    return found
