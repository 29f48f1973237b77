"""Lists paged by a query parameter (``column?page=N``, ``pageNo=``, ``cur_page=``…) with a
下一页 link or numbered links on the same path, as JSP and ASP.NET portals draw them."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import Response, TextResponse

from nianbao.crawler import meta
from nianbao.crawler.families.base import Family, ListPage, Reading, html_links, page_number
from nianbao.crawler.links import next_page_links, page_links
from nianbao.crawler.meta import Role


class PageParam(Family):
    name = "page-param"

    def detect(self, response: TextResponse, column: str) -> bool:
        return bool(next_page_links(page_links(response.selector, response.url), response.url))

    def read(self, response: Response, reading: Reading) -> ListPage:
        page = ListPage(html_links(response, reading))
        if not isinstance(response, TextResponse):
            return page
        number = page_number(response)
        following = [url for url in next_page_links(page_links(response.selector, response.url),
                                                    response.url) if url != response.url]
        if number + 1 >= reading.max_pages:
            page.truncated = bool(following)
            return page
        page.more = [self.request(url, number + 1) for url in following]
        return page

    def request(self, url: str, number: int) -> Request:
        return Request(url, meta={meta.ROLE: Role.LIST, meta.LIST_PAGE: number})
