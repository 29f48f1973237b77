"""Heavy parses as queue jobs of their own: a worker's crawl archives a scan or a .doc and goes
on; any ``nianbao worker`` parses it from the archived copy.

With a queue (``queue.url``, ``queue.heavy_parse_jobs``), a worker starts its crawl with
``NIANBAO_PARSE_QUEUE``; the crawl's parse pool weighs each document first
(``parsers/weight.py``, ``parse.heavy``) and a heavy one is not parsed there: the crawl defers
a procrastinate job naming the document's WARC record, the fetch's facts (validators, dates
known from the fetch, the crawl run) and the store, and moves to the next page. The job
(``parse_archived``) reads the record back, checks its digests, parses it under the pool's
limits and stores the record as a version — what the crawl would have done, later and
elsewhere. Every worker must see the archive directory the crawl wrote (a shared mount, or
``nianbao enqueue --archive``).

Idempotent: a job's ``queueing_lock`` and ``lock`` are the document (URL and SHA-256), so it
is queued once and never runs twice at once; versions are unique per report, URL and content,
so a job killed after storing and run again stores nothing new ("unchanged"). The document's
crawl state (validators, outcome) is remembered only with its version, so a crawl that
meets it again before its job has run fetches and defers it again (one job, the lock says).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from nianbao.crawler.items import FetchedDocument
from nianbao.parsers.document import DateEvidence
from nianbao.parsers.errors import ParseError
from nianbao.parsers.weight import HeavyRules
from nianbao.settings import settings

if TYPE_CHECKING:  # the scheduler imports this module for its names: nothing heavy at the top
    from scrapy.crawler import Crawler

    from nianbao.parsers.pool import ParsePool
    from nianbao.storage.store import Store

log = logging.getLogger("nianbao.deferred")
PARSE_TASK = "nianbao.parse_document"
PARSE_QUEUE = "nianbao-parse"


def libpq_url(url: str) -> str:
    """A libpq URL from a SQLAlchemy one (``postgresql+psycopg://`` → ``postgresql://``)."""
    scheme, _, rest = url.partition("://")
    return "postgresql://" + rest if scheme.startswith("postgres") else url


def document_key(url: str, body: bytes) -> str:
    """The job's lock and queueing lock: one document (URL and content)."""
    return "parse:" + hashlib.sha256(url.encode() + b"\0" + body).hexdigest()[:40]


class ParseDeferrer:
    """Defers heavy parses to the queue, from a crawl (one per crawler)."""

    def __init__(self, queue_url: str, db_url: str, archive_dir: Path, rules: HeavyRules,
                 sites_file: str | None = None):
        self.queue_url = queue_url
        self.sites_file = sites_file
        self.db_url = db_url
        self.archive_dir = archive_dir.resolve()
        self.rules = rules
        self._app = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ParseDeferrer | None:
        """None unless the crawl was started with a parse queue (``NIANBAO_PARSE_QUEUE``)."""
        from nianbao.storage.db import database_url

        conf = crawler.settings
        queue_url = conf.get("NIANBAO_PARSE_QUEUE")
        if not queue_url:
            return None
        return cls(queue_url, database_url(conf.get("NIANBAO_DATABASE_URL")),
                   Path(conf["NIANBAO_ARCHIVE_DIR"]),
                   HeavyRules.from_settings(settings()["parse"]), conf.get("NIANBAO_SITES_FILE"))

    def defer(self, item: FetchedDocument, dates: list[DateEvidence], reason: str,
              run_id: int | None) -> int | None:
        """Queue the document's parse (blocking: call it off the event loop); its job id, or
        None when that document's job is already queued."""
        import procrastinate
        from procrastinate.exceptions import AlreadyEnqueued

        if self._app is None:
            self._app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(
                conninfo=libpq_url(self.queue_url)))
            self._app.open()
        key = document_key(item.url, item.body)
        job = {
            "site_id": item.site_id, "url": item.url, "role": str(item.role),
            "content_type": item.content_type, "encoding": item.encoding,
            "status": item.status, "fetched_at": item.fetched_at.isoformat(),
            "warc": item.warc, "list_entry": item.list_entry, "etag": item.etag,
            "last_modified": item.last_modified, "has_links": bool(item.links),
            "dates": [{"source": d.source, "value": d.value, "raw": d.raw} for d in dates],
            "run_id": run_id, "db_url": self.db_url, "archive_dir": str(self.archive_dir),
            "sites_file": self.sites_file,
            "sha256": hashlib.sha256(item.body).hexdigest(), "reason": reason,
        }
        try:
            return self._app.configure_task(PARSE_TASK, queue=PARSE_QUEUE, lock=key,
                                            queueing_lock=key).defer(**job)
        except AlreadyEnqueued:
            return None

    def defer_or_why(self, item: FetchedDocument, dates: list[DateEvidence], reason: str,
                     run_id: int | None) -> str | None:
        """``defer``; None when queued (or already queued), else why it could not be."""
        try:
            self.defer(item, dates, reason, run_id)
        except Exception as exc:  # the queue's database is down or refuses: said, not raised
            log.warning("%s: could not queue its parse: %s", item.url, exc)
            return f"the parse job could not be queued: {type(exc).__name__}: {exc}"[:500]
        return None

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None


def archived_item(job: dict) -> FetchedDocument:
    """The fetched document a job names, its bytes read back from the archive and checked
    against the digests the crawl recorded (``ArchiveIntegrityError`` if they differ,
    ``FileNotFoundError`` where the archive is not mounted)."""
    from nianbao.archive.pointer import WarcPointer
    from nianbao.archive.reader import ArchiveIntegrityError, read_payload

    pointer = WarcPointer.from_dict(job["warc"])
    body = read_payload(Path(job["archive_dir"]), pointer)
    if hashlib.sha256(body).hexdigest() != job["sha256"]:
        raise ArchiveIntegrityError(f"{pointer.file}:{pointer.offset} is not the document "
                                    f"the crawl deferred")
    return FetchedDocument(
        site_id=job["site_id"], url=job["url"], role=job["role"], body=body,
        content_type=job["content_type"], status=int(job["status"]),
        fetched_at=datetime.fromisoformat(job["fetched_at"]), warc=job["warc"],
        list_entry=job["list_entry"], etag=job["etag"], last_modified=job["last_modified"],
        encoding=job["encoding"])


def parse_archived(job: dict, pool: ParsePool, store: Store) -> str:
    """The job: parse the archived document and store it as the crawl would have; returns the
    outcome (new, revised, another_copy, unchanged, rejected, not-a-report, parse-<reason>)."""
    from nianbao.crawler.freshness import document_state, remember_document
    from nianbao.crawler.pipelines import content_hash, declared_type

    item = archived_item(job)
    run_id = job["run_id"]
    dates = [DateEvidence(d["source"], d["value"], d.get("raw", "")) for d in job["dates"]]
    try:
        record = pool.parse(item.body, item.url, declared_type(item), dates)
    except ParseError as exc:
        store.record_failure(run_id, item.site_id, item.url, f"parse-{exc.reason}", str(exc))
        remember_document(store, item, f"parse-{exc.reason}", None)
        return f"parse-{exc.reason}"
    if record.get("format") == "unknown":
        if not job["has_links"]:  # a page that only points to its attachments is not news
            store.record_failure(run_id, item.site_id, item.url, "not-a-report",
                                 str(record.get("reason") or "no standard tables"))
        remember_document(store, item, "not-a-report", None)
        return "not-a-report"
    state = document_state(item, "report", None)
    outcome = store.store_document(
        run_id=run_id, site_id=item.site_id, url=item.url, record=record,
        content_hash=content_hash(record), payload_digest=job["sha256"],
        content_type=item.content_type, warc=item.warc, fetched_at=item.fetched_at,
        resource=(item.role, state) if state else None)
    if outcome.status == "rejected":
        store.record_failure(run_id, item.site_id, item.url, "rejected", outcome.reason or "")
        remember_document(store, item, outcome.status, None)
    log.info("%s: %s (%s)", item.url, outcome.status, job["reason"])
    return outcome.status
