"""The one generic spider: every portal is driven by its entry in ``config/sites.yaml``.

The journey of a report: start at each configured column (or at the homepage, and discover
the column) → read the list and its pagination as the column's CMS family does it
(``crawler/families``) → detail page → attachments. Each detail page and attachment becomes a
:class:`FetchedDocument` for the pipeline, which parses and stores it.

Each column (or homepage) is a place the run observes (``crawler/recorder.py``): its list
pages are counted until every one is read or has failed. A column that answers 404, says it
does not exist, redirects elsewhere or no longer lists any entry it listed before has moved:
before the spider closes, it is looked for again from the site's homepage.

Everything the spider uses — sites, store, the run's record — comes from the crawler's
settings (``crawler/services.py``, ``crawler/recorder.py``), so ``scrapy crawl reports -a
site=jccq`` works as well as ``nianbao crawl``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response, TextResponse

from nianbao.crawler import families, meta
from nianbao.crawler.addresses import forbidden_address
from nianbao.crawler.challenges import is_soft_404
from nianbao.crawler.discovery import is_report_column, leads_to_column, leads_to_portal
from nianbao.crawler.failures import failed_visit, http_status
from nianbao.crawler.freshness import known_reading, page_reading, remember_page
from nianbao.crawler.items import FetchedDocument
from nianbao.crawler.links import Link, is_attachment, page_links
from nianbao.crawler.meta import Role
from nianbao.crawler.recorder import CrawlRecorder, recorder
from nianbao.crawler.responses import header, visible_text
from nianbao.crawler.services import services, stopping_on_database_failure
from nianbao.crawler.vantage import Ways
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
        crawler.signals.connect(spider.idle, signal=signals.spider_idle)
        return spider

    @property
    def sites(self) -> dict[str, Site]:
        """The crawl's sites, as its services read them once (not the sites file again for
        every response)."""
        return services(self.crawler).sites

    @property
    def run(self) -> CrawlRecorder:
        return recorder(self.crawler)

    def callback_failed(self, failure, response, spider) -> None:
        """A bug in a callback must not pass silently: it is a failure of that URL."""
        site = self.sites.get(response.meta.get(meta.SITE, ""))
        if site is not None:
            self.page_failed(site, response.request, "internal-error",
                             f"{type(failure.value).__name__}: {failure.value}"[:500])

    # -- start ----------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        if services(self.crawler).failures:  # the run could not even be recorded
            return
        for site in self.sites.values():
            for column in site.columns:
                self.run.open_place(site.id, column.url, discovery=False)
                yield self.list_request(site, column.url, column.pagination or site.cms)
            if not site.columns and site.homepage:
                self.run.open_place(site.id, site.homepage, discovery=True)
                yield self.discovery_request(site, site.homepage, place=site.homepage, hops=0)

    def list_request(self, site: Site, url: str, family: str | None) -> Request:
        """The first page of a configured column."""
        request_meta = {meta.SITE: site.id, meta.ROLE: Role.LIST, meta.PLACE: url,
                        meta.LIST_URL: url, meta.LIST_PAGE: 0}
        if family:
            request_meta[meta.FAMILY] = family
            if family == families.JS_LIST.name:
                request_meta[meta.RENDER] = True
        return self.run.requested(
            Request(url, callback=self.parse, errback=self.failed, meta=request_meta))

    # -- discovery ------------------------------------------------------------------------

    def discovery_request(self, site: Site, url: str, place: str, hops: int,
                          priority: int = 0) -> Request:
        # The homepage may have been fetched already (a moved column redirecting to it).
        return self.run.requested(Request(
            url, callback=self.discover, errback=self.failed, priority=priority,
            dont_filter=hops == 0,
            meta={meta.SITE: site.id, meta.ROLE: Role.DISCOVER, meta.PLACE: place,
                  meta.HOPS: hops}))

    def discover(self, response: Response) -> Iterator[Request]:
        """From a homepage towards the 年报 column: follow 公开 links until a page is the
        column (then read it as a list); reports met on the way are taken too."""
        site = self.site_of(response)
        self.run.count(site.id, "pages")
        if isinstance(response, TextResponse) and is_report_column(response):
            self.run.count(site.id, "columns_discovered")
            remember_page(services(self.crawler), response, Role.DISCOVER, "list")
            yield from self.parse(response)
            return
        self.run.passed(response.request)
        if not isinstance(response, TextResponse):
            return
        remember_page(services(self.crawler), response, Role.DISCOVER, "discover")
        hops = response.meta.get(meta.HOPS, 0)
        place = response.meta[meta.PLACE]
        deeper = hops + 1 <= self.settings.getint("NIANBAO_MAX_DISCOVERY_HOPS")
        for link in page_links(response.selector, response.url):
            if not site.in_scope(link.url):
                continue
            if title_kind(link.text) == "report":
                yield self.document_request(site, link)
            elif deeper and leads_to_column(link):
                yield self.discovery_request(site, link.url, place, hops + 1, priority=5)
            elif deeper and leads_to_portal(link, hops):
                yield self.discovery_request(site, link.url, place, hops + 1)

    # -- lists ----------------------------------------------------------------------------

    def parse(self, response: Response) -> Iterator[Request]:
        """One page of a list (or a list's data feed), read by the column's family."""
        site = self.site_of(response)
        request = response.request
        role = response.meta.get(meta.ROLE)
        if role != Role.DISCOVER:
            self.run.count(site.id, "pages")
        if role == Role.LIST:
            remember_page(services(self.crawler), response, Role.LIST, "list")
        if role != Role.FEED and not isinstance(response, TextResponse):
            self.page_failed(site, request, "not-html", "list page is not text")
            return
        soft_404 = role != Role.FEED and is_soft_404(response.status, visible_text(response))
        if soft_404:
            self.run.fail(site.id, response.url, "soft-404", "list page says it does not exist")
        if self.is_column_page(request):
            redirected = response.meta.get("redirect_urls")
            if soft_404:
                self.run.column_moved(request, "its page says it does not exist")
                return
            if redirected and off_column(request.meta[meta.LIST_URL], response.url):
                self.run.column_moved(request, f"it redirects to {response.url}")
                return
        if soft_404:
            self.run.page_failed(request, "soft-404", "list page says it does not exist")
            return
        family = self.family_of(response)
        reading = families.Reading(response.meta.get(meta.LIST_URL) or response.url,
                                   site.selectors.get("list_links"),
                                   self.settings.getint("NIANBAO_MAX_LIST_PAGES"))
        try:
            page = family.read(response, reading)
            drawn_later = self.drawn_by_script(site, response, page)
            if drawn_later:
                family = families.JS_LIST
                self.run.count(site.id, "rendered_lists")
                page = family.read(response, reading)
        except families.ListError as exc:
            self.page_failed(site, request, exc.reason, exc.detail)
            return
        self.run.read(response, page, drawn_later=drawn_later)
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
        return self.run.requested(request.replace(callback=self.parse, errback=self.failed,
                                                  meta={**carried, **request.meta}))

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
                                via_proxy=bool(Ways.from_settings(self.settings)
                                               .of(site.region).proxy))
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
        known = known_reading(response)
        if known is not None:  # unchanged, and read before: its links are known
            attachments, dates, reading = known
        else:
            if is_soft_404(response.status, visible_text(response)):
                self.run.fail(site.id, response.url, "soft-404",
                              "HTTP 200 page that says it does not exist")
                remember_page(services(self.crawler), response, Role.DETAIL, "soft-404")
                return
            attachments = [link for link in page_links(response.selector, response.url,
                                                       keep=is_attachment)
                           if title_kind(link.text) != "lookalike"]
            dates = page_dates(response) if attachments else []
            reading = page_reading(response, attachments, dates)
        document = self.document(site, response, Role.DETAIL)
        document.links = [link.url for link in attachments]
        document.followed = reading
        yield document
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
            previous=request_meta.get(meta.PREVIOUS), known=known_url(response),
        )

    # -- a moved column -------------------------------------------------------------------

    def idle(self) -> None:
        """Before the spider closes: a configured column that moved is looked for again from
        its site's homepage, in the same run."""
        scheduled = False
        for place in list(self.run.places.values()):
            site = self.sites[place.site_id]
            if not place.discovery and not place.rediscovering and not place.moved:
                self.check_entries(place)
            if place.moved and not place.rediscovering and site.homepage:
                self.run.start_rediscovery(place)
                self.crawler.engine.crawl(self.discovery_request(
                    site, site.homepage, place=place.column_url, hops=0))
                scheduled = True
        if scheduled:
            raise DontCloseSpider

    def check_entries(self, place) -> None:
        """A column read completely that lists none of the entries it listed when last read
        — neither their addresses nor their titles — is no longer the 年报 list (a CMS rebuilt
        it elsewhere)."""
        if not place.reached or place.troubles or place.truncated or place.outstanding > 0:
            return
        before: list[dict] = []  # as when the database fails: the crawl stops then anyway
        with stopping_on_database_failure(self.crawler):
            before = self.store.previous_entries(place.site_id, place.column_url) or []
        urls = {entry.get("url") for entry in before}
        titles = {entry.get("title") for entry in before} - {"", None}
        if before and not (urls & set(place.entries) or titles & set(place.entries.values())):
            place.moved = f"it lists none of the {len(before)} entries it listed when last read"

    # -- failures -------------------------------------------------------------------------

    def failed(self, failure) -> None:
        """Any request that did not end in a page: recorded with its reason; a configured
        column that answers 404 or 410 has moved."""
        site = self.sites.get(failure.request.meta.get(meta.SITE, ""))
        if site is None:
            return
        request, reason, detail = failed_visit(failure)
        family = families.FAMILIES.get(request.meta.get(meta.FAMILY, ""))
        status = http_status(failure)
        if family is not None and status is not None and family.list_ended(request, status):
            self.run.passed(request)
            return
        self.run.fail(site.id, request.url, reason, detail)
        if status in (404, 410) and self.is_column_page(request):
            self.run.column_moved(request, f"it answers HTTP {status}")
        else:
            self.run.page_failed(request, reason, detail)

    def page_failed(self, site: Site, request: Request, reason: str, detail: str) -> None:
        """A page that arrived but cannot be used: a failure of its URL and of its place."""
        self.run.fail(site.id, request.url, reason, detail)
        self.run.page_failed(request, reason, detail)

    def is_column_page(self, request: Request) -> bool:
        """The first page of a configured column (not of a list found by discovery)."""
        place = self.run.place_of(request)
        return (place is not None and request.meta.get(meta.ROLE) == Role.LIST
                and self.run.is_first_page(place, request))

    # -- helpers --------------------------------------------------------------------------

    @property
    def store(self):
        return services(self.crawler).store

    def site_of(self, response: Response) -> Site:
        return self.sites[response.meta[meta.SITE]]


def off_column(column: str, url: str) -> bool:
    """A redirect that leaves the column: to another host (``www.`` aside) or to a path
    outside the column's folder."""
    before, after = urlsplit(column), urlsplit(url)

    def host(parts) -> str:
        return (parts.hostname or "").lower().removeprefix("www.")

    if host(before) != host(after):
        return True
    folder = before.path if before.path.endswith("/") else before.path.rsplit("/", 1)[0] + "/"
    return not (after.path.startswith(folder) or after.path.rstrip("/") == before.path.rstrip("/"))


def is_document(link: Link) -> bool:
    """A link the spider would fetch as a report or an attachment."""
    return title_kind(link.text) == "report" or is_attachment(link.url)


def known_url(response: Response) -> bool | None:
    """Whether the store knew the response's URL when its request was sent (the freshness
    middleware asked); None when it was not asked for this URL (a redirect it did not see)."""
    url, known = response.meta.get(meta.KNOWN) or (None, None)
    return known if url == response.url else None


def page_dates(response: TextResponse) -> list[dict]:
    """The publication dates a detail page states (meta PubDate, visible 发布日期): they date
    the attachments it publishes, which rarely carry a date of their own. Only the page's own
    dates are read here; the full parse of the page happens in the pipeline's worker pool."""
    from nianbao.parsers.readers.html import page_dates as read_page_dates

    return [{"source": d.source, "value": d.value, "raw": f"{d.raw or d.value} on {response.url}"}
            for d in read_page_dates(response.selector.root)]
