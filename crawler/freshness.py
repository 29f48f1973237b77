"""Whether a page is fetched again, and what stands for it when it is not: the one home of
nianbao's incremental crawling.

Every URL's last state (validators, list entry, outcome, archived copy) is in the store's
resources. For a list, detail or attachment request the decision is:

- a page with ETag / Last-Modified is asked for conditionally; a ``304`` is answered with the
  archived copy of the last body (``Unchanged.CONFIRMED``);
- a page without validators whose list entry (title and date) is unchanged and which was
  checked less than ``NIANBAO_REVALIDATE_DAYS`` ago is not asked for at all and is answered
  with its archived copy (``Unchanged.ASSUMED``);
- anything else is fetched.

Either way the spider sees an ordinary response and the pipeline an item marked unchanged,
which keeps its stored version (only its last-seen time moves) instead of being parsed again.
What the spider read off a detail page to follow (its attachments and dates) is kept with the
page's state, bound to the exact bytes it was read from: an unchanged page's links are followed
as they were read, without reading the page again.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Response

from nianbao import __version__
from nianbao.crawler import meta
from nianbao.crawler.items import FetchedDocument
from nianbao.crawler.links import Link
from nianbao.crawler.meta import Role, Unchanged
from nianbao.crawler.responses import header
from nianbao.crawler.services import CrawlServices, services
from nianbao.crawler.states import KeptBatch, SiteStates

ROLES = (Role.LIST, Role.DISCOVER, Role.DETAIL, Role.ATTACHMENT)


class FreshnessMiddleware:
    """Conditional requests, requests not sent at all, and answers from the archive."""

    def __init__(self, crawler: Crawler, services: CrawlServices):
        self.crawler = crawler
        self.services = services
        self.states = SiteStates(services.store)  # one query per site, not one per request
        self.revalidate = timedelta(days=crawler.settings.getfloat("NIANBAO_REVALIDATE_DAYS"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FreshnessMiddleware:
        return cls(crawler, services(crawler))

    def process_request(self, request: Request) -> Response | None:
        if request.meta.get(meta.ROLE) not in ROLES or request.meta.get("playwright"):
            return None
        state = self.states.state(request.url, request.meta.get(meta.SITE))
        request.meta[meta.KNOWN] = (request.url, state is not None)
        if state is None or not state.warc_pointer:
            return None
        request.meta[meta.PREVIOUS] = state
        if self._assumed_unchanged(request, state):
            self.crawler.stats.inc_value("nianbao/unchanged_assumed")
            return self._from_archive(request, state, Unchanged.ASSUMED)
        if state.etag:
            request.headers.setdefault("If-None-Match", state.etag)
        if state.last_modified:
            request.headers.setdefault("If-Modified-Since", state.last_modified)
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        confirmed = request.meta.pop(meta.CONFIRMED_BODY, None)
        state = request.meta.get(meta.PREVIOUS)
        if response.status != 304 or state is None or meta.UNCHANGED in request.meta:
            return response
        self.crawler.stats.inc_value("nianbao/not_modified")
        # The body the archive read back to cite in the 304's revisit, when it is the state's
        # (the same SHA-256): the archived copy is read once.
        cited = (request.meta.get(meta.WARC) or {}).get("sha256")
        if confirmed is None or not cited or cited != (state.warc_pointer or {}).get("sha256"):
            confirmed = None
        return self._from_archive(request, state, Unchanged.CONFIRMED, response, confirmed)

    def _assumed_unchanged(self, request: Request, state) -> bool:
        """A document the server gives no validators for, listed as before, seen lately."""
        entry = request.meta.get(meta.LIST_ENTRY)
        return bool(
            request.meta.get(meta.ROLE) in (Role.DETAIL, Role.ATTACHMENT)
            and entry is not None and state.list_entry == entry and state.outcome
            and not state.etag and not state.last_modified and state.checked_at
            and datetime.now(UTC) - state.checked_at < self.revalidate
        )

    def _from_archive(self, request: Request, state, why: Unchanged,
                      fresh: Response | None = None, body: bytes | None = None) -> Response:
        """The archived body of the URL's last fetch (``body`` when it was read already), with
        the newest validators."""
        if body is None:
            from nianbao.archive.pointer import WarcPointer
            from nianbao.archive.reader import read_payload

            body = read_payload(self.services.archive_dir,
                                WarcPointer.from_dict(state.warc_pointer))
        request.meta[meta.UNCHANGED] = why
        request.meta[meta.WARC] = state.warc_pointer
        headers = {"Content-Type": state.content_type} if state.content_type else {}
        for name, value in (("ETag", state.etag), ("Last-Modified", state.last_modified)):
            new = fresh.headers.get(name) if fresh is not None else None
            if new or value:
                headers[name] = new.decode("latin-1") if new else value
        cls = HtmlResponse if (state.content_type or "").startswith("text/html") else Response
        return cls(url=request.url, status=200, body=body, headers=headers, request=request)


def remember_page(crawl: CrawlServices, response: Response, role: Role, outcome: str) -> None:
    """Validators and archived copy of a list or discovery page, for the next crawl (its
    archived copy made durable first: the row points to it)."""
    request_meta = response.meta
    warc = request_meta.get(meta.WARC) or {}
    if request_meta.get(meta.RENDERED) or not warc.get("file"):
        return
    try:
        crawl.archive.make_durable(warc["file"])
    except OSError as exc:
        crawl.archive_failed(exc)
        return
    crawl.store.remember_resource(
        response.url, request_meta[meta.SITE], role.value, outcome=outcome,
        etag=header(response, "ETag"), last_modified=header(response, "Last-Modified"),
        status=response.status, warc_file=warc["file"], warc_offset=warc["offset"],
        warc_pointer=warc, content_type=header(response, "Content-Type"),
        fetched_at=request_meta.get(meta.FETCHED_AT), checked_at=datetime.now(UTC), links=None,
    )


def page_reading(response: Response, attachments: list[Link], dates: list[dict]) -> dict:
    """What the spider read off a detail page to follow, bound to the bytes it read (the
    archived payload's SHA-256), to the encoding it read them in and to the nianbao that read
    them (another version may read links otherwise: its first crawl reads the page again)."""
    return {"sha256": (response.meta.get(meta.WARC) or {}).get("sha256"),
            "encoding": getattr(response, "encoding", None), "by": __version__,
            "attachments": [[link.url, link.text, link.date] for link in attachments],
            "dates": dates}


def known_reading(response: Response) -> tuple[list[Link], list[dict], dict] | None:
    """For a detail page answered from the archive: its attachments and dates as the spider
    read them off these very bytes, in the same encoding, and that reading; None when the page
    must be read (no reading kept, or one of other bytes or by another version)."""
    state = response.meta.get(meta.PREVIOUS)
    if response.meta.get(meta.UNCHANGED) is None or state is None or state.url != response.url:
        return None
    reading = state.links
    pointer = state.warc_pointer or {}
    if (not reading or not reading.get("sha256") or reading["sha256"] != pointer.get("sha256")
            or reading.get("encoding") != getattr(response, "encoding", None)
            or reading.get("by") != __version__):
        return None
    return ([Link(url, text, date) for url, text, date in reading["attachments"]],
            list(reading["dates"]), reading)


def document_state(item: FetchedDocument, outcome: str, version_id: int | None,
                   digest: str | None = None) -> dict | None:
    """The resource fields to remember of a fetched document (None: nothing to remember, as
    for a rendered DOM or a document without an archived copy); ``digest``: its body's SHA-256
    when already known."""
    if item.rendered or not item.warc.get("file"):
        return None
    return {
        "outcome": outcome, "version_id": version_id, "etag": item.etag,
        "last_modified": item.last_modified, "status": item.status,
        "list_entry": item.list_entry, "warc_file": item.warc["file"],
        "warc_offset": item.warc["offset"], "warc_pointer": item.warc,
        "content_type": item.content_type,
        "payload_digest": digest or hashlib.sha256(item.body).hexdigest(),
        "fetched_at": item.fetched_at,
        "checked_at": item.fetched_at, "links": item.followed,
    }


def remember_document(store, item: FetchedDocument, outcome: str,
                      version_id: int | None) -> None:
    """A document's state once its version is stored (never before: a crash in between must
    not make the next crawl think it has the document)."""
    state = document_state(item, outcome, version_id)
    if state is not None:
        store.remember_resource(item.url, item.site_id, item.role, **state)


def keep_unchanged(store, item: FetchedDocument, kept: KeptBatch) -> str | None:
    """For a document answered from the archive: keep its stored version (its last-seen time
    moves) and return its last outcome; None when the item must be parsed after all. A 304
    also renews the document's validators; both in one transaction, with the rest of ``kept``'s
    batch."""
    if item.unchanged is None:
        return None
    previous = item.previous  # read by the middleware that answered it from the archive
    if previous is None or previous.url != item.url:
        previous = store.resource(item.url)
    if previous is None or not previous.outcome:
        return None
    # The body answered from the archive was checked against its pointer's SHA-256 when read.
    state = (document_state(item, previous.outcome, previous.version_id, item.warc.get("sha256"))
             if item.unchanged == Unchanged.CONFIRMED else None)
    kept.keep(previous.version_id, item.fetched_at, item.url, item.site_id, item.role, state)
    return previous.outcome
