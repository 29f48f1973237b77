"""Run one crawl of some sites into a database and an archive directory.

Scrapy's reactor cannot be restarted, so one process runs one crawl; the scheduler and the
tests start ``nianbao crawl`` as a subprocess. The crawl is configured only through Scrapy
settings, exactly as ``scrapy crawl reports -s …`` would configure it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings


@dataclass
class CrawlOptions:
    database_url: str
    archive_dir: Path
    sites_file: Path
    site_ids: list[str] = field(default_factory=list)  # empty: every site in the file
    proxy: str | None = None
    allowed_private_hosts: tuple[str, ...] = ()
    log_level: str = "WARNING"
    overrides: dict | None = None


def scrapy_settings(options: CrawlOptions) -> Settings:
    """The project's Scrapy settings with this run's values (as ``-s`` options would set them)."""
    conf = Settings()
    conf.setmodule("nianbao.crawler.settings", priority="project")
    values = {
        "NIANBAO_DATABASE_URL": options.database_url,
        "NIANBAO_ARCHIVE_DIR": str(options.archive_dir),
        "NIANBAO_SITES_FILE": str(options.sites_file),
        "NIANBAO_SITES": list(options.site_ids),
        "LOG_LEVEL": options.log_level,
    }
    if options.proxy:
        values["NIANBAO_PROXY"] = options.proxy
    if options.allowed_private_hosts:
        values["NIANBAO_ALLOWED_PRIVATE_HOSTS"] = [
            *conf.getlist("NIANBAO_ALLOWED_PRIVATE_HOSTS"), *options.allowed_private_hosts]
    values.update(options.overrides or {})
    for key, value in values.items():
        conf.set(key, value, priority="cmdline")
    return conf


class CrawlFailed(Exception):
    """The crawl could not start (its archive cannot be written, its database cannot be
    used) or could not go on (its archive or its database failed); ``run_id`` is the run
    recorded as failed with that reason, when there is one."""

    def __init__(self, message: str, run_id: int | None):
        super().__init__(message)
        self.run_id = run_id


def _archive_writable(options: CrawlOptions) -> None:
    """A crawl whose archive directory cannot be written stores nothing: it is recorded as a
    failed run with the reason, and does not start."""
    from nianbao.archive.fsio import check_writable

    try:
        check_writable(Path(options.archive_dir))
    except OSError as exc:
        from nianbao.storage.db import connect, migrate
        from nianbao.storage.store import Store

        why = (f"the archive directory {options.archive_dir} cannot be written "
               f"({exc.strerror or exc})")
        engine = connect(options.database_url)
        try:
            migrate(engine)
            store = Store(engine)
            run_id = store.start_run(list(options.site_ids))
            store.finish_run(run_id, "failed", {"_close_reason": {
                "reason": "archive-failed", "detail": why}}, 0)
        finally:
            engine.dispose()
        raise CrawlFailed(why, run_id) from None


def run_crawl(options: CrawlOptions) -> int | None:
    """Crawl; return the crawl run's id (its statistics are in the database); ``CrawlFailed``
    with the reason when it could not start (its archive or its database cannot be used, its
    components could not be built) or could not go on (its database failed)."""
    from nianbao.crawler.recorder import CrawlRecorder
    from nianbao.crawler.services import (
        DATABASE_FAILED,
        DATABASE_UNUSABLE,
        CrawlServices,
        database_unusable,
    )
    from nianbao.crawler.spiders.reports import ReportsSpider

    _archive_writable(options)

    logging.getLogger("scrapy").setLevel(options.log_level)
    process = CrawlerProcess(scrapy_settings(options))
    crawler = process.create_crawler(ReportsSpider)
    unstarted: list[BaseException] = []
    process.crawl(crawler).addErrback(lambda failure: unstarted.append(failure.value))
    process.start()
    if unstarted:  # Scrapy could not build the crawl (its services, the store above all)
        why = unstarted[0]
        raise CrawlFailed(database_unusable(why) if isinstance(why, DATABASE_UNUSABLE)
                          else f"it could not start ({type(why).__name__}: {why})", None)
    try:
        run = crawler.get_extension(CrawlRecorder)
        crawl = crawler.get_extension(CrawlServices)
    except RuntimeError:  # the crawl failed before its extensions existed
        return None
    run_id = run.run_id if run is not None else None
    if crawl is not None:
        crawl.store.engine.dispose()  # its database connections closed now, not when collected
        if DATABASE_FAILED in crawl.failures:  # the run's failure could not be recorded
            raise CrawlFailed(crawl.failures[DATABASE_FAILED], run_id)
    return run_id
