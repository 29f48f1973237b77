"""TRS WCM (拓尔思): static ``index.html``, ``index_1.html``… whose page count exists only as
the first argument of ``createPageHTML(count, current, "index", "html")`` (or a ``countPage``
variable): read it from the script, as real TRS crawlers do."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import Response, TextResponse

from nianbao.crawler import meta
from nianbao.crawler.families.base import Family, ListPage, Reading, html_links, page_number
from nianbao.crawler.links import TRS_COUNT, TRS_PAGER, trs_pages
from nianbao.crawler.meta import Role


class Trs(Family):
    name = "trs"

    def detect(self, response: TextResponse, column: str) -> bool:
        return bool(TRS_PAGER.search(response.text) or TRS_COUNT.search(response.text))

    def read(self, response: Response, reading: Reading) -> ListPage:
        page = ListPage(html_links(response, reading))
        if page_number(response) != 0 or not isinstance(response, TextResponse):
            return page  # the first page names them all
        urls = trs_pages(response.text, response.url)
        allowed = urls[: max(reading.max_pages - 1, 0)]
        page.more = [Request(url, meta={meta.ROLE: Role.LIST, meta.LIST_PAGE: n})
                     for n, url in enumerate(allowed, start=1)]
        page.truncated = len(allowed) < len(urls)
        return page
