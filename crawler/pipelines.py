"""Parse each fetched document in the parse worker pool and store it as a version (or say why
not).

Parsing runs in the pool's worker processes (``parsers/pool.py``), with a time and memory limit
per document and at most ``parse.workers`` documents at once, off the crawl's event loop: one
hostile attachment can neither stall nor crash the crawl, and many cannot exhaust the memory.
"""

from __future__ import annotations

import asyncio
import json
from email.utils import parsedate_to_datetime
from hashlib import sha256

from scrapy import signals
from scrapy.crawler import Crawler

from nianbao.crawler.deferred import ParseDeferrer
from nianbao.crawler.freshness import document_state, keep_unchanged, remember_document
from nianbao.crawler.items import FetchedDocument
from nianbao.crawler.recorder import CrawlRecorder, recorder
from nianbao.crawler.services import CrawlServices, services, stopping_on_database_failure
from nianbao.crawler.states import KeptBatch
from nianbao.parsers.document import DateEvidence
from nianbao.parsers.errors import ParseError
from nianbao.parsers.pool import ParsePool
from nianbao.parsers.weight import HeavyDocument
from nianbao.settings import settings

CONTENT_KEYS = ("title", "issuer", "report_year", "format", "metrics", "cells", "sections")


def content_hash(record: dict) -> str:
    """What makes two fetches the same report content: the parsed text and figures, not the
    page's bytes (CMS pages embed visit counters and clocks that change on every fetch)."""
    content = {key: record.get(key) for key in CONTENT_KEYS}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return sha256(text.encode()).hexdigest()


def external_dates(item: FetchedDocument, first_seen: bool) -> list[DateEvidence]:
    """Date evidence known from the fetch rather than the document."""
    dates = []
    if item.last_modified:
        try:
            day = parsedate_to_datetime(item.last_modified).date().isoformat()
            dates.append(DateEvidence("http:last-modified", day, item.last_modified))
        except (TypeError, ValueError):
            pass
    dates += [DateEvidence(d["source"], d["value"], d.get("raw", "")) for d in item.page_dates]
    if first_seen:
        dates.append(DateEvidence("first-seen", item.fetched_at.date().isoformat()))
    return dates


def declared_type(item: FetchedDocument) -> str | None:
    """The content type the parser decodes by: the site's ``encoding`` override, where the
    site entry has one, replaces whatever charset the server declared."""
    if not item.encoding:
        return item.content_type
    kind = (item.content_type or "text/html").split(";")[0].strip()
    return f"{kind}; charset={item.encoding}"


class StorePipeline:
    """Parses each fetched document (in the parse worker pool) and stores it as a version, or
    records why not."""

    def __init__(self, crawler: Crawler, crawl: CrawlServices, recorder: CrawlRecorder,
                 parse: dict, kept_batch: int = 1):
        self.crawler = crawler
        self.services = crawl
        self.store = crawl.store
        self.recorder = recorder
        # unchanged documents' rows, written a batch at a time (``crawler/states.py``)
        self.kept = KeptBatch(crawl.store, kept_batch)
        self.max_bytes = int(parse["max_file_mb"]) * 2**20
        self.pool = ParsePool.from_settings(parse)
        self.deferrer = ParseDeferrer.from_crawler(crawler)  # heavy parses to the queue
        crawler.signals.connect(self.close_pool, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler, services(crawler), recorder(crawler), settings()["parse"],
                   crawler.settings.getint("NIANBAO_KEPT_BATCH", 1))

    def close_spider(self) -> None:
        """The pending batch of unchanged documents, written before the run is recorded as
        finished (Scrapy closes the pipelines before it sends ``spider_closed``)."""
        with stopping_on_database_failure(self.crawler):
            self.kept.flush()

    def close_pool(self) -> None:
        self.crawler.stats.set_value("nianbao/parse/workers_started", self.pool.workers_started)
        self.pool.close()
        if self.deferrer is not None:
            self.deferrer.close()

    async def parse(self, item: FetchedDocument, dates: list[DateEvidence]) -> dict:
        if len(item.body) > self.max_bytes:
            raise ParseError("too-large", f"{len(item.body)} bytes is over the parse limit")
        heavy = self.deferrer.rules if self.deferrer is not None else None
        return await asyncio.wrap_future(
            self.pool.submit(item.body, item.url, declared_type(item), dates, heavy))

    async def durable(self, item: FetchedDocument) -> bool:
        """Make the item's archived record durable before a row points to it (one fsync, in a
        thread, for every record written since the last); False when the archive has failed
        (then the crawl stops and nothing is stored for the item)."""
        file = (item.warc or {}).get("file")
        archive = self.services.archive
        if not file or not archive.unsynced(file):
            return True
        try:
            await asyncio.to_thread(archive.make_durable, file)
        except OSError as exc:
            self.recorder.fail(item.site_id, item.url, "archive", self.services.archive_failed(exc))
            return False
        return True

    async def process_item(self, item: FetchedDocument) -> FetchedDocument:
        """Store the item; a database that fails stops the crawl (``database_failed``), and
        the item is not remembered, so the next crawl fetches it again."""
        with stopping_on_database_failure(self.crawler):
            return await self._process(item)
        return item

    async def _process(self, item: FetchedDocument) -> FetchedDocument:
        store, run = self.store, self.recorder
        if item.unchanged is not None and not await self.durable(item):
            return item
        if keep_unchanged(store, item, self.kept) is not None:
            run.count(item.site_id, "unchanged")
            return item
        self.kept.flush()  # before any other write: a state kept must not overwrite a newer one
        # First seen: the freshness middleware's lookup says, when it made one.
        known = item.known if item.known is not None else store.resource(item.url) is not None
        dates = external_dates(item, first_seen=not known)
        try:
            record = await self.parse(item, dates)
        except HeavyDocument as heavy:  # its own queue job parses it (crawler/deferred.py)
            if not await self.durable(item):  # the job reads the archived copy back
                return item
            failed = await asyncio.to_thread(self.deferrer.defer_or_why, item, dates,
                                             heavy.reason, run.run_id)
            if failed:  # not remembered: the next crawl fetches it again
                run.fail(item.site_id, item.url, "parse-deferral", failed)
            else:
                run.count(item.site_id, "deferred")
            return item
        except ParseError as exc:
            if await self.durable(item):
                run.fail(item.site_id, item.url, f"parse-{exc.reason}", str(exc))
                remember_document(store, item, f"parse-{exc.reason}", None)
            return item
        # After the parse, so that one fsync covers what was archived meanwhile.
        if not await self.durable(item):
            return item
        if record.get("format") == "unknown":
            run.count(item.site_id, "not_reports")
            if not item.links:  # a page that only points to its attachments is not news
                store.record_failure(run.run_id, item.site_id, item.url, "not-a-report",
                                     str(record.get("reason") or "no standard tables"))
            remember_document(store, item, "not-a-report", None)
            return item
        # The URL's state is remembered with the version, in its transaction.
        state = document_state(item, "report", None)
        outcome = store.store_document(
            run_id=run.run_id, site_id=item.site_id, url=item.url, record=record,
            content_hash=content_hash(record),
            payload_digest=state["payload_digest"] if state else sha256(item.body).hexdigest(),
            content_type=item.content_type, warc=item.warc, fetched_at=item.fetched_at,
            resource=(item.role, state) if state else None,
        )
        run.count(item.site_id, outcome.status)
        if outcome.status == "rejected":
            store.record_failure(run.run_id, item.site_id, item.url, "rejected",
                                 outcome.reason or "")
            remember_document(store, item, outcome.status, None)
        return item
