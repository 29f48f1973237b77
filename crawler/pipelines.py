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

from nianbao.crawler.freshness import keep_unchanged, remember_document
from nianbao.crawler.items import FetchedDocument
from nianbao.crawler.recorder import CrawlRecorder, recorder
from nianbao.crawler.services import services
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
        memory_mb=int(limits["memory_mb"]), content_type=declared_type(item), dates=dates,
    )


def declared_type(item: FetchedDocument) -> str | None:
    """The content type the parser decodes by: the site's ``encoding`` override, where the
    site entry has one, replaces whatever charset the server declared."""
    if not item.encoding:
        return item.content_type
    kind = (item.content_type or "text/html").split(";")[0].strip()
    return f"{kind}; charset={item.encoding}"


class StorePipeline:
    """Parses each fetched document and stores it as a version, or records why not."""

    def __init__(self, store, recorder: CrawlRecorder):
        self.store = store
        self.recorder = recorder

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(services(crawler).store, recorder(crawler))

    async def process_item(self, item: FetchedDocument) -> FetchedDocument:
        store, run = self.store, self.recorder
        if keep_unchanged(store, item) is not None:
            run.count(item.site_id, "unchanged")
            return item
        previous = store.resource(item.url)
        dates = external_dates(item, first_seen=previous is None)
        try:
            record = await maybe_deferred_to_future(deferToThread(parse_document, item, dates))
        except ParseError as exc:
            run.fail(item.site_id, item.url, f"parse-{exc.reason}", str(exc))
            remember_document(store, item, f"parse-{exc.reason}", None)
            return item
        if record.get("format") == "unknown":
            run.count(item.site_id, "not_reports")
            if not item.links:  # a page that only points to its attachments is not news
                store.record_failure(run.run_id, item.site_id, item.url, "not-a-report",
                                     str(record.get("reason") or "no standard tables"))
            remember_document(store, item, "not-a-report", None)
            return item
        outcome = store.store_document(
            run_id=run.run_id, site_id=item.site_id, url=item.url, record=record,
            content_hash=content_hash(record), payload_digest=hashlib.sha256(item.body).hexdigest(),
            content_type=item.content_type, warc=item.warc, fetched_at=item.fetched_at,
        )
        run.count(item.site_id, outcome.status)
        if outcome.status == "rejected":
            store.record_failure(run.run_id, item.site_id, item.url, "rejected",
                                 outcome.reason or "")
        remember_document(store, item, "report" if outcome.version_id else outcome.status,
                          outcome.version_id)
        return item
