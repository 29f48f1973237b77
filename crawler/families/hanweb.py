"""Hanweb 大汉 JCMS: a ``/col/col<id>/index.html`` column page carries only the jpage
configuration; the entries come from ``POST /module/web/jpage/dataproxy.jsp`` (form fields
columnid, unitid, webid…) as XML, one CDATA ``<li>`` per ``<record>``, three list pages per
request."""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from parsel import Selector
from scrapy import FormRequest, Request
from scrapy.http import Response, TextResponse

from nianbao.crawler import meta
from nianbao.crawler.families.base import Family, ListPage, Reading, page_number
from nianbao.crawler.links import hanweb_params, page_links
from nianbao.crawler.meta import Role

PAGES_PER_REQUEST = 3  # as jpage asks: endrecord = perpage × 3
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)")


class Hanweb(Family):
    name = "hanweb"

    def detect(self, response: TextResponse, column: str) -> bool:
        return hanweb_params(response.text) is not None

    def read(self, response: Response, reading: Reading) -> ListPage:
        text = response.text if isinstance(response, TextResponse) else ""
        state = response.meta.get(meta.FEED_STATE)
        if state is None:  # the column page: its jpage parameters
            params = hanweb_params(text)
            return ListPage(more=[self.feed(response.url, params, 1, 1)] if params else [])
        params, start = state["params"], state["start"]
        records = _RECORD.findall(text)
        page = ListPage([link for html in records
                         for link in page_links(Selector(text=html), reading.column)], feed=True)
        total = _TOTAL.search(text)
        end = self.end(params, start)
        if total and end < int(total[1]) and records:
            number = page_number(response) + PAGES_PER_REQUEST
            if number > reading.max_pages:
                page.truncated = True
            else:
                page.more = [self.feed(reading.column, params, end + 1, number)]
        return page

    @staticmethod
    def end(params: dict, start: int) -> int:
        return start + int(params.get("perpage") or 15) * PAGES_PER_REQUEST - 1

    def feed(self, column_url: str, params: dict, start: int, number: int) -> Request:
        """Records from ``start`` on: list pages ``number`` to ``number + 2``."""
        parts = urlsplit(column_url)
        query = urlencode({"startrecord": start, "endrecord": self.end(params, start),
                           "perpage": int(params.get("perpage") or 15)})
        url = f"{parts.scheme}://{parts.netloc}/module/web/jpage/dataproxy.jsp?{query}"
        form = {k: v for k, v in params.items() if k != "perpage"}
        return FormRequest(url, formdata=form, meta={
            meta.ROLE: Role.FEED, meta.LIST_PAGE: number,
            meta.FEED_STATE: {"params": params, "start": start}})
