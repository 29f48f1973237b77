"""Lists paged by a query parameter (``column?page=N``, ``pageNo=``, ``cur_page=``…) with a
下一页 link or numbered links on the same path, as JSP and ASP.NET portals draw them.

Only pages after the current one are followed: 首页 and 上一页 lead back to pages already
read (``column`` and ``column?page=1`` are the same page under two addresses)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from scrapy import Request
from scrapy.http import Response, TextResponse

from nianbao.crawler import meta
from nianbao.crawler.families.base import Family, ListPage, Reading, html_links, page_number
from nianbao.crawler.links import next_page_links, page_links
from nianbao.crawler.meta import Role

PAGE_KEYS = ("page", "pageno", "cur_page", "pagenum", "p")


def page_value(url: str) -> int | None:
    """The page number a ``?page=N``-style URL asks for (None: the URL names none)."""
    for key, value in parse_qsl(urlsplit(url).query):
        if key.lower() in PAGE_KEYS and value.isdigit():
            return int(value)
    return None


class PageParam(Family):
    name = "page-param"

    def detect(self, response: TextResponse, column: str) -> bool:
        return bool(next_page_links(page_links(response.selector, response.url), response.url))

    def read(self, response: Response, reading: Reading) -> ListPage:
        page = ListPage(html_links(response, reading))
        if not isinstance(response, TextResponse):
            return page
        number = page_number(response)
        current = page_value(response.url) or number + 1
        links = next_page_links(page_links(response.selector, response.url), response.url)
        targets = {url: page_value(url) or current + 1 for url in links if url != response.url}
        forward = {url: n for url, n in targets.items() if n > current}
        page.more = [self.request(url, n - 1) for url, n in forward.items()
                     if n <= reading.max_pages]
        page.truncated = len(page.more) < len(forward)
        return page

    def request(self, url: str, number: int) -> Request:
        return Request(url, meta={meta.ROLE: Role.LIST, meta.LIST_PAGE: number})
