"""Run one crawl of some sites into a database and an archive directory.

Scrapy's reactor cannot be restarted, so one process runs one crawl; the scheduler and the
tests start ``nianbao crawl`` as a subprocess.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from nianbao.crawler.settings import BrowserRequestFilter
from nianbao.sites import Site


@dataclass
class CrawlOptions:
    database_url: str
    archive_dir: Path
    proxy: str | None = None
    allowed_private_hosts: tuple[str, ...] = ()
    log_level: str = "WARNING"
    overrides: dict | None = None


def politeness_slots(sites: list[Site], conf: Settings) -> dict[str, dict]:
    """Per-host download slots from each site's ``politeness`` override (Scrapy's
    ``DOWNLOAD_SLOTS``), so a fragile county portal can get one request every few seconds: its
    concurrency, its delay (also AutoThrottle's floor there) and whether AutoThrottle adapts
    it (``crawler/throttle.py``)."""
    slots: dict[str, dict] = {}
    for site in sites:
        polite = site.politeness
        if not polite.keys() & {"concurrency", "delay_seconds", "autothrottle"}:
            continue
        slot = {"concurrency": int(polite.get("concurrency") or
                                   conf.getint("CONCURRENT_REQUESTS_PER_DOMAIN")),
                "delay": float(polite.get("delay_seconds", conf.getfloat("DOWNLOAD_DELAY")))}
        if "autothrottle" in polite:
            slot["autothrottle"] = bool(polite["autothrottle"])
        for url in [*site.start_urls, *(f"http://{d}/" for d in site.domains)]:
            host = urlsplit(url).hostname
            if host:
                slots[host] = slot
    return slots


def scrapy_settings(options: CrawlOptions, sites: list[Site] = ()) -> Settings:
    """The project's Scrapy settings plus this run's proxy, hosts, slots and overrides."""
    conf = Settings()
    conf.setmodule("nianbao.crawler.settings", priority="project")
    conf.set("DOWNLOAD_SLOTS", politeness_slots(list(sites), conf))
    if options.proxy:
        conf.set("NIANBAO_PROXY", options.proxy)
        launch = dict(conf.getdict("PLAYWRIGHT_LAUNCH_OPTIONS"))
        launch["proxy"] = {"server": options.proxy}
        conf.set("PLAYWRIGHT_LAUNCH_OPTIONS", launch)
    if options.allowed_private_hosts:
        hosts = [*conf.getlist("NIANBAO_ALLOWED_PRIVATE_HOSTS"), *options.allowed_private_hosts]
        conf.set("NIANBAO_ALLOWED_PRIVATE_HOSTS", hosts)
    conf.set("PLAYWRIGHT_ABORT_REQUEST", BrowserRequestFilter(
        conf.getlist("NIANBAO_ALLOWED_PRIVATE_HOSTS"), conf.get("NIANBAO_PROXY")))
    conf.set("LOG_LEVEL", options.log_level)
    for key, value in (options.overrides or {}).items():
        conf.set(key, value, priority="cmdline")
    return conf


def run_crawl(sites: list[Site], options: CrawlOptions) -> int:
    """Crawl ``sites``; return the crawl run's id (its statistics are in the database)."""
    from nianbao.archive.warc import WarcArchive
    from nianbao.crawler.spiders.reports import ReportsSpider
    from nianbao.settings import settings
    from nianbao.storage.db import connect, migrate
    from nianbao.storage.store import Store

    engine = connect(options.database_url)
    migrate(engine)
    store = Store(engine)
    store.interrupted_runs_cleanup()
    for site in sites:
        store.upsert_site(site.id, site.name, site.region, site.raw,
                          [i.as_dict() for i in site.issuers])
    run_id = store.start_run([s.id for s in sites])
    max_bytes = int(settings()["storage"]["warc_max_mb"]) * 2**20
    options.archive_dir.mkdir(parents=True, exist_ok=True)
    archive = WarcArchive(options.archive_dir, max_bytes)
    logging.getLogger("scrapy").setLevel(options.log_level)
    process = CrawlerProcess(scrapy_settings(options, sites))
    process.crawl(ReportsSpider, sites=sites, store=store, archive=archive,
                  archive_dir=options.archive_dir, run_id=run_id)
    process.start()
    return run_id
