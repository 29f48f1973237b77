"""The one generic spider: every portal is driven by its entry in ``config/sites.yaml``.

Journey of a report: column (or homepage → discovery) → list pages and their pagination (TRS
``createPageHTML``, ``?page=N``, Hanweb ``dataproxy.jsp``, gkmlpt JSON, lists drawn by
JavaScript) → detail page → attachments. Each detail page and attachment becomes a
:class:`FetchedDocument` for the pipeline, which parses and stores it.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from lxml import etree
from parsel import Selector
from scrapy import FormRequest, Request, Spider, signals
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)

from nianbao.crawler.addresses import forbidden_address
from nianbao.crawler.challenges import challenge_kind, is_soft_404
from nianbao.crawler.items import FetchedDocument
from nianbao.crawler.links import (
    Link,
    gkmlpt_api,
    hanweb_params,
    is_attachment,
    next_page_links,
    page_links,
    trs_pages,
)
from nianbao.crawler.middlewares import Refused, lower_headers
from nianbao.sites import Site
from nianbao.vocabulary.titles import (
    COLUMN_PAGE_TITLE,
    COLUMN_SLUG,
    COLUMN_TITLE,
    DISCLOSURE_TITLE,
    title_kind,
)

_COLUMN_META = "//meta[translate(@name,'COLUMNAME','columname')='columnname']/@content"
_VISIBLE_TEXT = etree.XPath("//body//text()[not(ancestor::script)]", smart_strings=False)


class ReportsSpider(Spider):
    name = "reports"

    def __init__(self, sites: list[Site], store, archive, archive_dir, run_id: int, **kwargs):
        super().__init__(**kwargs)
        self.sites = {s.id: s for s in sites}
        self.store = store
        self.archive = archive
        self.archive_dir = archive_dir
        self.run_id = run_id
        self.site_stats: dict[str, Counter] = defaultdict(Counter)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.callback_failed, signal=signals.spider_error)
        return spider

    def callback_failed(self, failure, response, spider) -> None:
        """A bug in a callback must not pass silently: it is a failure of that URL."""
        site = self.sites.get(response.meta.get("site_id", ""))
        if site is not None:
            self._fail(site, response.url, "internal-error",
                       f"{type(failure.value).__name__}: {failure.value}"[:500])

    # -- start --------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        for site in self.sites.values():
            self.site_stats[site.id]["started"] = 1
            for column in site.columns:
                yield self._list_request(site, column.url, column.url, 0, column.pagination)
            if not site.columns and site.homepage:
                yield Request(site.homepage, callback=self.discover, errback=self.failed,
                              meta={"site_id": site.id, "kind": "discover", "hops": 0})

    def _list_request(self, site: Site, url: str, column: str, page: int,
                      pagination: str | None = None, **meta) -> Request:
        return Request(url, callback=self.parse_list, errback=self.failed, meta={
            "site_id": site.id, "kind": "list", "column": column, "list_page": page,
            "pagination": pagination, **meta})

    # -- discovery ------------------------------------------------------------------------

    def discover(self, response: Response) -> Iterator[Request]:
        """From a homepage to the 政府信息公开年报 column: follow 公开 links, recognise the column
        by its ``ColumnName`` meta, title or URL slug."""
        site = self._site(response)
        self._count(site, "pages")
        if not isinstance(response, TextResponse):
            return
        self._remember(response, "discover", "discover")
        if _is_report_column(response):
            self._count(site, "columns_discovered")
            yield from self.parse_list(response)
            return
        hops = response.meta.get("hops", 0)
        for link in page_links(response.selector, response.url):
            if not site.in_scope(link.url):
                continue
            kind = title_kind(link.text)
            if kind == "report":
                yield self._document_request(site, link)
            elif COLUMN_TITLE.search(link.text) or COLUMN_SLUG.search(urlsplit(link.url).path):
                yield Request(link.url, callback=self.discover, errback=self.failed, priority=5,
                              meta={"site_id": site.id, "kind": "discover", "hops": hops + 1})
            elif DISCLOSURE_TITLE.search(link.text) and hops < 2:
                yield Request(link.url, callback=self.discover, errback=self.failed,
                              meta={"site_id": site.id, "kind": "discover", "hops": hops + 1})

    # -- lists ----------------------------------------------------------------------------

    def parse_list(self, response: Response) -> Iterator[Request]:
        site = self._site(response)
        meta = response.meta
        if meta.get("kind") != "discover":
            self._count(site, "pages")
        self._remember(response, "list", "list")
        if not isinstance(response, TextResponse):
            self._fail(site, response.url, "not-html", "list page is not text")
            return
        if is_soft_404(response.status, _visible_text(response)):
            self._fail(site, response.url, "soft-404", "list page says it does not exist")
            return
        links = page_links(response.selector, response.url, site.selectors.get("list_links"))
        found = list(self._documents_from(site, links))
        yield from found
        pages = list(self._pagination(site, response, links))
        yield from pages
        if not found and not pages and not meta.get("rendered") and site.render == "auto":
            self._count(site, "rendered_lists")
            keep = ("site_id", "kind", "column", "list_page", "pagination", "hops")
            yield response.request.replace(
                dont_filter=True, meta={**{k: meta[k] for k in keep if k in meta}, "render": True})

    def _documents_from(self, site: Site, links: list[Link]) -> Iterator[Request]:
        for link in links:
            kind = title_kind(link.text)
            if kind == "lookalike":
                self._count(site, "lookalikes_skipped")
            elif kind == "report" or is_attachment(link.url):
                request = self._document_request(site, link)
                if request is not None:
                    yield request
            elif COLUMN_TITLE.search(link.text):
                self._note_unfollowed(site, link)

    def _note_unfollowed(self, site: Site, link: Link) -> None:
        """A 年报-titled link that is not followed because of where it points is worth an
        auditor's note (e.g. a column linking to an internal address)."""
        allowed = frozenset(self.settings.getlist("NIANBAO_ALLOWED_PRIVATE_HOSTS"))
        why = forbidden_address(link.url, allowed | frozenset(site.allow_private),
                                via_proxy=bool(self.settings.get("NIANBAO_PROXY")))
        if why:
            self._fail(site, link.url, "forbidden-address", f"{link.text}: {why}")
        elif not site.in_scope(link.url):
            self._fail(site, link.url, "out-of-scope", f"{link.text}: outside "
                       f"{', '.join(site.domains)}")

    def _pagination(self, site: Site, response: TextResponse, links: list[Link]):
        meta = response.meta
        page = meta.get("list_page", 0)
        column = meta.get("column", response.url)
        limit = self.settings.getint("NIANBAO_MAX_LIST_PAGES")
        html = response.text
        if hanweb := hanweb_params(html):
            yield self._hanweb_request(site, response.url, hanweb, 1)
            return
        if api := gkmlpt_api(html, column):
            yield Request(api, callback=self.parse_gkmlpt, errback=self.failed, meta={
                "site_id": site.id, "kind": "gkmlpt", "column": column, "list_page": 1})
            return
        if page == 0:
            for n, url in enumerate(trs_pages(html, response.url)[: limit - 1], start=1):
                yield self._list_request(site, url, column, n)
        if page + 1 < limit:
            for url in next_page_links(links, response.url):
                yield self._list_request(site, url, column, page + 1)

    def _hanweb_request(self, site: Site, column_url: str, params: dict, start: int) -> Request:
        per = int(params.get("perpage") or 15)
        end = start + per * 3 - 1
        parts = urlsplit(column_url)
        query = urlencode({"startrecord": start, "endrecord": end, "perpage": per})
        url = f"{parts.scheme}://{parts.netloc}/module/web/jpage/dataproxy.jsp?{query}"
        form = {k: v for k, v in params.items() if k != "perpage"}
        return FormRequest(url, formdata=form, callback=self.parse_hanweb, errback=self.failed,
                           meta={"site_id": site.id, "kind": "hanweb", "column": column_url,
                                 "hanweb": params, "start": start, "end": end})

    def parse_hanweb(self, response: Response) -> Iterator[Request]:
        """Hanweb ``dataproxy.jsp``: XML with ``<record><![CDATA[<li>…]]></record>`` items."""
        site = self._site(response)
        self._count(site, "pages")
        text = response.text if isinstance(response, TextResponse) else ""
        records = re.findall(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", text, re.S)
        links = [link for html in records
                 for link in page_links(Selector(text=html), response.meta["column"])]
        yield from self._documents_from(site, links)
        total = re.search(r"<totalrecord>\s*(\d+)", text)
        end = response.meta["end"]
        if total and end < int(total[1]) and records:
            yield self._hanweb_request(site, response.meta["column"], response.meta["hanweb"],
                                       end + 1)

    def parse_gkmlpt(self, response: Response) -> Iterator[Request]:
        """Guangdong gkmlpt: ``/gkmlpt/api/all/<cat>?page=N&sid=`` returns JSON articles."""
        site = self._site(response)
        self._count(site, "pages")
        try:
            data = json.loads(response.text)
        except (ValueError, AttributeError):
            self._fail(site, response.url, "bad-json", "gkmlpt API did not return JSON")
            return
        articles = data.get("articles") or []
        links = []
        for art in articles:
            href = art.get("url") or art.get("post_url")
            if href:
                date = str(art.get("created_at") or "")[:10] or None
                links.append(Link(urljoin(response.url, href), str(art.get("title", "")), date))
        yield from self._documents_from(site, links)
        page = response.meta["list_page"]
        total = int(data.get("total") or 0)
        seen = response.meta.get("seen", 0) + len(articles)
        limit = self.settings.getint("NIANBAO_MAX_LIST_PAGES")
        if articles and seen < total and page < limit:
            parts = urlsplit(response.url)
            query = dict(parse_qsl(parts.query))
            query["page"] = str(page + 1)
            yield Request(parts._replace(query=urlencode(query)).geturl(),
                          callback=self.parse_gkmlpt, errback=self.failed,
                          meta={**response.meta, "list_page": page + 1, "seen": seen})

    # -- documents ----------------------------------------------------------------------

    def _document_request(self, site: Site, link: Link) -> Request | None:
        """A detail page or attachment, unless its list entry and state say it is unchanged."""
        state = self.store.resource(link.url)
        revalidate = timedelta(days=self.settings.getfloat("NIANBAO_REVALIDATE_DAYS"))
        if (state is not None and state.list_entry == link.entry and state.outcome
                and not state.etag and not state.last_modified and state.checked_at
                and datetime.now(UTC) - state.checked_at < revalidate):
            self._count(site, "unchanged_skipped")
            self._count(site, "unchanged")
            if state.version_id is not None:
                self.store.touch_version(state.version_id, datetime.now(UTC))
            return None
        kind = "attachment" if is_attachment(link.url) else "detail"
        callback = self.parse_attachment if kind == "attachment" else self.parse_detail
        return Request(link.url, callback=callback, errback=self.failed,
                       meta={"site_id": site.id, "kind": kind, "list_entry": link.entry})

    def parse_detail(self, response: Response) -> Iterator[FetchedDocument | Request]:
        site = self._site(response)
        self._count(site, "pages")
        if not isinstance(response, TextResponse):
            yield self._document(site, response, "attachment")
            return
        if is_soft_404(response.status, _visible_text(response)):
            self._fail(site, response.url, "soft-404", "HTTP 200 page that says it does not exist")
            self._remember(response, "detail", "soft-404")
            return
        attachments = [link for link in page_links(response.selector, response.url)
                       if is_attachment(link.url) and title_kind(link.text) != "lookalike"]
        document = self._document(site, response, "detail")
        document.links = [link.url for link in attachments]
        yield document
        page_dates = _page_dates(response) if attachments else []
        for link in attachments:
            request = self._document_request(site, link)
            if request is not None:
                request.meta["page_dates"] = page_dates
                yield request

    def parse_attachment(self, response: Response) -> Iterator[FetchedDocument]:
        site = self._site(response)
        self._count(site, "pages")
        yield self._document(site, response, "attachment")

    def _document(self, site: Site, response: Response, kind: str) -> FetchedDocument:
        meta = response.meta
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1") or None
        return FetchedDocument(
            site_id=site.id, url=response.url, kind=kind, body=response.body,
            content_type=content_type, status=response.status,
            fetched_at=meta.get("fetched_at") or datetime.now(UTC), warc=meta.get("warc") or {},
            list_entry=meta.get("list_entry"),
            etag=_header(response, "ETag"), last_modified=_header(response, "Last-Modified"),
            not_modified=bool(meta.get("not_modified")), rendered=bool(meta.get("rendered")),
            page_dates=list(meta.get("page_dates") or []),
        )

    # -- bookkeeping ----------------------------------------------------------------------

    def closed(self, reason: str) -> None:
        """Close the archive and write the run's per-site statistics."""
        self.archive.close()
        received = self.crawler.stats.get_value("downloader/response_bytes", 0)
        stats = {k: dict(v) for k, v in self.site_stats.items()}
        if reason != "finished":
            stats["_close_reason"] = {"reason": reason}
        status = "finished" if reason == "finished" else "interrupted"
        self.store.finish_run(self.run_id, status, stats, received)

    def _site(self, response: Response) -> Site:
        return self.sites[response.meta["site_id"]]

    def _count(self, site: Site, key: str, n: int = 1) -> None:
        self.site_stats[site.id][key] += n

    def _fail(self, site: Site, url: str, reason: str, detail: str) -> None:
        self._count(site, "errors")
        self.site_stats[site.id][f"error:{reason}"] += 1
        self.store.record_failure(self.run_id, site.id, url, reason, detail)

    def _remember(self, response: Response, kind: str, outcome: str) -> None:
        """Validators of a list page (detail pages are remembered by the pipeline, after
        their version is stored, so a crash in between never hides a report)."""
        meta = response.meta
        warc = meta.get("warc") or {}
        if meta.get("rendered") or not warc.get("file"):
            return
        self.store.remember_resource(
            response.url, meta["site_id"], kind, outcome=outcome,
            etag=_header(response, "ETag"), last_modified=_header(response, "Last-Modified"),
            status=response.status, warc_file=warc["file"], warc_offset=warc["offset"],
            warc_pointer=warc,
            content_type=(response.headers.get("Content-Type") or b"").decode("latin-1") or None,
            fetched_at=meta.get("fetched_at"), checked_at=datetime.now(UTC),
        )

    def failed(self, failure) -> None:
        request = failure.request
        site = self.sites.get(request.meta.get("site_id", ""))
        if site is None:
            return
        reason, detail = _failure_reason(failure)
        if reason == "http-404" and request.meta.get("kind") == "gkmlpt":
            return  # gkmlpt sites that serve every article on page 1 answer 404 after it
        self._fail(site, request.url, reason, detail)


def _failure_reason(failure) -> tuple[str, str]:
    exc = failure.value
    if isinstance(exc, Refused):
        return exc.reason, exc.detail
    if isinstance(exc, HttpError):
        response = exc.response
        challenge = challenge_kind(response.status, lower_headers(response), response.url,
                                   response.body)
        if challenge:
            return "challenge", f"HTTP {response.status}: {challenge} challenge not passed"
        return f"http-{response.status}", f"HTTP {response.status}"
    if isinstance(exc, DNSLookupError):
        return "dns", str(exc)
    if isinstance(exc, TimeoutError | TCPTimedOutError):
        return "timeout", str(exc) or "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection-refused", str(exc)
    message = str(exc)
    if "robots.txt" in message:
        return "robots", message
    return type(exc).__name__.lower(), message[:500]


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _visible_text(response: TextResponse) -> str:
    """The page's text outside scripts, for the soft-404 test. A compiled XPath returning plain
    strings: parsel would wrap each of a Word page's thousands of text nodes in a Selector."""
    return " ".join(_VISIBLE_TEXT(response.selector.root))[:8000]


def _page_dates(response: TextResponse) -> list[dict]:
    """The publication dates a detail page states (meta PubDate, visible 发布日期): they date
    the attachments it publishes, which rarely carry a date of their own. Only the page's own
    dates are read here; the full parse of the page happens in the pipeline's parse worker pool."""
    from nianbao.parsers.readers.html import page_dates

    return [{"source": d.source, "value": d.value, "raw": f"{d.raw or d.value} on {response.url}"}
            for d in page_dates(response.selector.root)]


def _is_report_column(response: TextResponse) -> bool:
    names = " ".join(response.xpath(_COLUMN_META).getall())
    title = " ".join(response.xpath("//title//text()").getall())
    return bool(COLUMN_TITLE.search(names) or COLUMN_PAGE_TITLE.search(title)
                or COLUMN_SLUG.search(urlsplit(response.url).path))
