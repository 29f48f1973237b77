"""The one generic spider: every portal is driven by its entry in ``config/sites.yaml``.

The journey of a report: start at each configured column (or at the homepage, and discover
the column) → read the list and its pagination as the column's CMS family does it
(``crawler/families``) → detail page → attachments. Each detail page and attachment becomes a
:class:`FetchedDocument` for the pipeline, which parses and stores it.

Everything the spider uses — sites, store, the run's record — comes from the crawler's
settings (``crawler/services.py``, ``crawler/recorder.py``), so ``scrapy crawl reports -a
site=jccq`` works as well as ``nianbao crawl``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

from scrapy import Request, Spider, signals
from scrapy.http import Response, TextResponse

from nianbao.crawler import families, meta
from nianbao.crawler.addresses import forbidden_address
from nianbao.crawler.challenges import is_soft_404
from nianbao.crawler.discovery import is_report_column, leads_to_column, leads_to_portal
from nianbao.crawler.failures import failure_reason, http_status
from nianbao.crawler.freshness import remember_page
from nianbao.crawler.items import FetchedDocument
from nianbao.crawler.links import Link, is_attachment, page_links
from nianbao.crawler.meta import Role
from nianbao.crawler.recorder import CrawlRecorder, recorder
from nianbao.crawler.responses import header, visible_text
from nianbao.crawler.services import configured_sites, services
from nianbao.sites import Site
from nianbao.vocabulary.titles import COLUMN_TITLE, title_kind

# Meta a list page passes on to the pages of the same list.
_PLACE_KEYS = (meta.SITE, meta.PLACE, meta.LIST_URL, meta.FAMILY)


class ReportsSpider(Spider):
    """``-a site=ID[,ID…]`` crawls those site entries (default: ``NIANBAO_SITES``, or all)."""

    name = "reports"

    def __init__(self, site: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.site_ids = [s.strip() for s in (site or "").split(",") if s.strip()]

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.site_ids:
            crawler.settings.set("NIANBAO_SITES", spider.site_ids, priority="spider")
        crawler.signals.connect(spider.callback_failed, signal=signals.spider_error)
        return spider

    @property
    def sites(self) -> dict[str, Site]:
        return configured_sites(self.settings)

    @property
    def run(self) -> CrawlRecorder:
        return recorder(self.crawler)

    def callback_failed(self, failure, response, spider) -> None:
        """A bug in a callback must not pass silently: it is a failure of that URL."""
        site = self.sites.get(response.meta.get(meta.SITE, ""))
        if site is not None:
            self.run.fail(site.id, response.url, "internal-error",
                          f"{type(failure.value).__name__}: {failure.value}"[:500])

    # -- start ----------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        for site in self.sites.values():
            for column in site.columns:
                yield self.list_request(site, column.url, column.pagination or site.cms)
            if not site.columns and site.homepage:
                yield self.discovery_request(site, site.homepage, place=site.homepage, hops=0)

    def list_request(self, site: Site, url: str, family: str | None) -> Request:
        """The first page of a configured column."""
        request_meta = {meta.SITE: site.id, meta.ROLE: Role.LIST, meta.PLACE: url,
                        meta.LIST_URL: url, meta.LIST_PAGE: 0}
        if family:
            request_meta[meta.FAMILY] = family
            if family == families.JS_LIST.name:
                request_meta[meta.RENDER] = True
        return Request(url, callback=self.parse, errback=self.failed, meta=request_meta)

    # -- discovery ------------------------------------------------------------------------

    def discovery_request(self, site: Site, url: str, place: str, hops: int,
                          priority: int = 0) -> Request:
        return Request(url, callback=self.discover, errback=self.failed, priority=priority,
                       meta={meta.SITE: site.id, meta.ROLE: Role.DISCOVER, meta.PLACE: place,
                             meta.HOPS: hops})

    def discover(self, response: Response) -> Iterator[Request]:
        """From a homepage towards the 年报 column: follow 公开 links until a page is the
        column (then read it as a list); reports met on the way are taken too."""
        site = self.site_of(response)
        self.run.count(site.id, "pages")
        if not isinstance(response, TextResponse):
            return
        remember_page(self.store, response, Role.DISCOVER, "discover")
        if is_report_column(response):
            self.run.count(site.id, "columns_discovered")
            yield from self.parse(response)
            return
        hops = response.meta.get(meta.HOPS, 0)
        place = response.meta[meta.PLACE]
        for link in page_links(response.selector, response.url):
            if not site.in_scope(link.url):
                continue
            if title_kind(link.text) == "report":
                yield self.document_request(site, link)
            elif leads_to_column(link):
                yield self.discovery_request(site, link.url, place, hops + 1, priority=5)
            elif leads_to_portal(link, hops):
                yield self.discovery_request(site, link.url, place, hops + 1)

    # -- lists ----------------------------------------------------------------------------

    def parse(self, response: Response) -> Iterator[Request]:
        """One page of a list (or a list's data feed), read by the column's family."""
        site = self.site_of(response)
        role = response.meta.get(meta.ROLE)
        if role != Role.DISCOVER:
            self.run.count(site.id, "pages")
        if role == Role.LIST:
            remember_page(self.store, response, Role.LIST, "list")
        if role != Role.FEED and not isinstance(response, TextResponse):
            self.run.fail(site.id, response.url, "not-html", "list page is not text")
            return
        if role != Role.FEED and is_soft_404(response.status, visible_text(response)):
            self.run.fail(site.id, response.url, "soft-404", "list page says it does not exist")
            return
        family = self.family_of(response)
        reading = families.Reading(response.meta.get(meta.LIST_URL) or response.url,
                                   site.selectors.get("list_links"),
                                   self.settings.getint("NIANBAO_MAX_LIST_PAGES"))
        try:
            page = family.read(response, reading)
            if self.drawn_by_script(site, response, page):
                family = families.JS_LIST
                self.run.count(site.id, "rendered_lists")
                page = family.read(response, reading)
        except families.ListError as exc:
            self.run.fail(site.id, response.url, exc.reason, exc.detail)
            return
        yield from self.documents(site, page.entries)
        for request in page.more:
            yield self.follow_list(response, request, family)

    def family_of(self, response: Response) -> families.Family:
        """The list's family: as configured or already chosen for this list, else detected on
        this page."""
        chosen = response.meta.get(meta.FAMILY)
        if chosen:
            return families.FAMILIES[chosen]
        return families.detect(response, response.meta.get(meta.LIST_URL) or response.url)

    def drawn_by_script(self, site: Site, response: Response, page: families.ListPage) -> bool:
        """A page with no report link and no pagination may be a list drawn by JavaScript."""
        return (site.render == "auto" and not response.meta.get(meta.RENDERED)
                and response.meta.get(meta.ROLE) != Role.FEED and not page.more
                and not any(is_document(link) for link in page.entries))

    def follow_list(self, response: Response, request: Request,
                    family: families.Family) -> Request:
        """A further page of the list ``response`` belongs to: same place, same family."""
        carried = {key: response.meta[key] for key in _PLACE_KEYS if key in response.meta}
        carried.setdefault(meta.LIST_URL, response.url)
        carried[meta.FAMILY] = family.name
        return request.replace(callback=self.parse, errback=self.failed,
                               meta={**carried, **request.meta})

    def documents(self, site: Site, links: list[Link]) -> Iterator[Request]:
        """Requests for a list's reports and attachments; look-alikes are skipped by title."""
        for link in links:
            kind = title_kind(link.text)
            if kind == "lookalike":
                self.run.count(site.id, "lookalikes_skipped")
            elif kind == "report" or is_attachment(link.url):
                yield self.document_request(site, link)
            elif COLUMN_TITLE.search(link.text):
                self.note_unfollowed(site, link)

    def note_unfollowed(self, site: Site, link: Link) -> None:
        """A 年报-titled link that is not followed because of where it points is worth an
        auditor's note (e.g. a column linking to an internal address)."""
        allowed = frozenset(self.settings.getlist("NIANBAO_ALLOWED_PRIVATE_HOSTS"))
        why = forbidden_address(link.url, allowed | frozenset(site.allow_private),
                                via_proxy=bool(self.settings.get("NIANBAO_PROXY")))
        if why:
            self.run.fail(site.id, link.url, "forbidden-address", f"{link.text}: {why}")
        elif not site.in_scope(link.url):
            self.run.fail(site.id, link.url, "out-of-scope",
                          f"{link.text}: outside {', '.join(site.domains)}")

    # -- documents ------------------------------------------------------------------------

    def document_request(self, site: Site, link: Link, **extra) -> Request:
        """A detail page or an attachment; whether it is fetched again is the freshness
        middleware's decision (``crawler/freshness.py``)."""
        role = Role.ATTACHMENT if is_attachment(link.url) else Role.DETAIL
        callback = self.parse_attachment if role == Role.ATTACHMENT else self.parse_detail
        return Request(link.url, callback=callback, errback=self.failed,
                       meta={meta.SITE: site.id, meta.ROLE: role, meta.LIST_ENTRY: link.entry,
                             **extra})

    def parse_detail(self, response: Response) -> Iterator[FetchedDocument | Request]:
        site = self.site_of(response)
        self.run.count(site.id, "pages")
        if not isinstance(response, TextResponse):
            yield self.document(site, response, Role.ATTACHMENT)
            return
        if is_soft_404(response.status, visible_text(response)):
            self.run.fail(site.id, response.url, "soft-404",
                          "HTTP 200 page that says it does not exist")
            remember_page(self.store, response, Role.DETAIL, "soft-404")
            return
        attachments = [link for link in page_links(response.selector, response.url)
                       if is_attachment(link.url) and title_kind(link.text) != "lookalike"]
        document = self.document(site, response, Role.DETAIL)
        document.links = [link.url for link in attachments]
        yield document
        dates = page_dates(response) if attachments else []
        for link in attachments:
            yield self.document_request(site, link, **{meta.PAGE_DATES: dates})

    def parse_attachment(self, response: Response) -> Iterator[FetchedDocument]:
        site = self.site_of(response)
        self.run.count(site.id, "pages")
        yield self.document(site, response, Role.ATTACHMENT)

    def document(self, site: Site, response: Response, role: Role) -> FetchedDocument:
        request_meta = response.meta
        return FetchedDocument(
            site_id=site.id, url=response.url, role=role.value, body=response.body,
            content_type=header(response, "Content-Type"), status=response.status,
            fetched_at=request_meta.get(meta.FETCHED_AT) or datetime.now(UTC),
            warc=request_meta.get(meta.WARC) or {},
            list_entry=request_meta.get(meta.LIST_ENTRY),
            etag=header(response, "ETag"), last_modified=header(response, "Last-Modified"),
            unchanged=request_meta.get(meta.UNCHANGED),
            rendered=bool(request_meta.get(meta.RENDERED)), encoding=site.encoding,
            page_dates=list(request_meta.get(meta.PAGE_DATES) or []),
        )

    # -- failures -------------------------------------------------------------------------

    def failed(self, failure) -> None:
        """Any request that did not end in a page: recorded with its reason."""
        request = failure.request
        site = self.sites.get(request.meta.get(meta.SITE, ""))
        if site is None:
            return
        family = families.FAMILIES.get(request.meta.get(meta.FAMILY, ""))
        status = http_status(failure)
        if family is not None and status is not None and family.list_ended(request, status):
            return
        reason, detail = failure_reason(failure)
        original = request.meta.get(meta.SOLVE_FOR)
        self.run.fail(site.id, original.url if original is not None else request.url,
                      reason, detail)

    # -- helpers --------------------------------------------------------------------------

    @property
    def store(self):
        return services(self.crawler).store

    def site_of(self, response: Response) -> Site:
        return self.sites[response.meta[meta.SITE]]


def is_document(link: Link) -> bool:
    """A link the spider would fetch as a report or an attachment."""
    return title_kind(link.text) == "report" or is_attachment(link.url)


def page_dates(response: TextResponse) -> list[dict]:
    """The publication dates a detail page states (meta PubDate, visible 发布日期): they date
    the attachments it publishes, which rarely carry a date of their own. Only the page's own
    dates are read here; the full parse of the page happens in the pipeline's sandbox."""
    from nianbao.parsers.readers.html import page_dates as read_page_dates

    return [{"source": d.source, "value": d.value, "raw": f"{d.raw or d.value} on {response.url}"}
            for d in read_page_dates(response.selector.root)]
