"""Parse each fetched document in a sandbox and store it as a version (or say why not).

Parsing runs in a forked child with time and memory limits (``parsers/sandbox.py``), off the
crawl's event loop, so one hostile attachment can neither stall nor crash the crawl.
"""

from __future__ import annotations

import hashlib
import json
from email.utils import parsedate_to_datetime

from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from nianbao.crawler.items import FetchedDocument
from nianbao.parsers.document import DateEvidence
from nianbao.parsers.errors import ParseError
from nianbao.settings import settings

CONTENT_KEYS = ("title", "issuer", "report_year", "format", "metrics", "cells", "sections")


def content_hash(record: dict) -> str:
    """What makes two fetches the same report content: the parsed text and figures, not the
    page's bytes (CMS pages embed visit counters and clocks that change on every fetch)."""
    content = {key: record.get(key) for key in CONTENT_KEYS}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


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


def parse_document(item: FetchedDocument, dates: list[DateEvidence]) -> dict:
    from nianbao.parsers.sandbox import parse_isolated

    limits = settings()["parse"]
    if len(item.body) > int(limits["max_file_mb"]) * 2**20:
        raise ParseError("too-large", f"{len(item.body)} bytes is over the parse limit")
    return parse_isolated(
        item.body, item.url, timeout=float(limits["timeout_seconds"]),
        memory_mb=int(limits["memory_mb"]), content_type=item.content_type, dates=dates,
    )


class StorePipeline:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler)

    async def process_item(self, item: FetchedDocument) -> FetchedDocument:
        spider = self.crawler.spider
        stats = spider.site_stats[item.site_id]
        store = spider.store
        previous = store.resource(item.url)
        if item.not_modified and previous is not None and previous.outcome:
            stats["unchanged"] += 1
            if previous.version_id is not None:
                store.touch_version(previous.version_id, item.fetched_at)
            self._remember(item, previous.outcome, previous.version_id)
            return item
        dates = external_dates(item, first_seen=previous is None)
        try:
            record = await maybe_deferred_to_future(deferToThread(parse_document, item, dates))
        except ParseError as exc:
            stats["errors"] += 1
            stats[f"error:parse-{exc.reason}"] += 1
            store.record_failure(spider.run_id, item.site_id, item.url, f"parse-{exc.reason}",
                                 str(exc))
            self._remember(item, f"parse-{exc.reason}", None)
            return item
        if record.get("format") == "unknown":
            stats["not_reports"] += 1
            if not item.links:  # a page that only points to its attachments is not news
                store.record_failure(spider.run_id, item.site_id, item.url, "not-a-report",
                                     str(record.get("reason") or "no standard tables"))
            self._remember(item, "not-a-report", None)
            return item
        outcome = store.store_document(
            run_id=spider.run_id, site_id=item.site_id, url=item.url, record=record,
            content_hash=content_hash(record), payload_digest=hashlib.sha256(item.body).hexdigest(),
            content_type=item.content_type, warc=item.warc, fetched_at=item.fetched_at,
        )
        stats[outcome.status] += 1
        if outcome.status == "rejected":
            store.record_failure(spider.run_id, item.site_id, item.url, "rejected",
                                 outcome.reason or "")
        self._remember(item, "report" if outcome.version_id else outcome.status,
                       outcome.version_id)
        return item

    def _remember(self, item: FetchedDocument, outcome: str, version_id: int | None) -> None:
        if item.rendered or not item.warc.get("file"):
            return
        self.crawler.spider.store.remember_resource(
            item.url, item.site_id, item.kind, outcome=outcome, version_id=version_id,
            etag=item.etag, last_modified=item.last_modified, status=item.status,
            list_entry=item.list_entry, warc_file=item.warc["file"],
            warc_offset=item.warc["offset"], warc_pointer=item.warc,
            content_type=item.content_type,
            payload_digest=hashlib.sha256(item.body).hexdigest(), fetched_at=item.fetched_at,
            checked_at=item.fetched_at,
        )
