"""Lists drawn by JavaScript: the column page has no entry links until a script fetches and
writes them. Chromium renders the page (waiting for the site's ``selectors.wait_for`` when it
has one); the drawn pages are then paged like ``?page=N`` lists, each rendered too."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import Response

from nianbao.crawler import meta
from nianbao.crawler.families.base import ListPage, Reading
from nianbao.crawler.families.page_param import PageParam


class JsList(PageParam):
    name = "js-list"

    def detect(self, response, column: str) -> bool:
        return False  # chosen by the spider when a page shows nothing without JavaScript

    def read(self, response: Response, reading: Reading) -> ListPage:
        if not response.meta.get(meta.RENDERED):
            again = self.request(response.url, response.meta.get(meta.LIST_PAGE, 0))
            return ListPage([], [again.replace(dont_filter=True)])
        return super().read(response, reading)

    def request(self, url: str, number: int) -> Request:
        request = super().request(url, number)
        request.meta[meta.RENDER] = True
        return request
