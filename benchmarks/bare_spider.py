"""The baselines of ``benchmarks/crawl.py``: a bare Scrapy spider that fetches what nianbao
fetches on the generated portal (the column's list pages, every detail page, every attachment)
and does nothing else — no parsing, no storage, no archive.

    scrapy runspider benchmarks/bare_spider.py -a start=URL

With ``-a revalidate=FILE`` (a JSON list of ``[url, etag, last_modified]``) it is instead
Scrapy's own floor for an unchanged recrawl: one conditional request per URL, as nianbao's
recrawl sends them, and nothing done with the 304s (nor any page to read links from: the
URLs are given).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator

from scrapy import Request, Spider
from scrapy.http import Response, TextResponse

PAGER = re.compile(r"createPageHTML\((\d+),\s*0,")
ATTACHMENT = re.compile(r"\.(pdf|docx?|wps)$")


class BareSpider(Spider):
    name = "bare"

    def __init__(self, start: str = "", revalidate: str = "", **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [start] if start else []
        self.revalidate = revalidate

    async def start(self) -> AsyncIterator[Request]:
        if not self.revalidate:
            async for request in super().start():
                yield request
            return
        with open(self.revalidate, encoding="utf-8") as file:
            known = json.load(file)
        for url, etag, modified in known:
            yield Request(url, callback=self.not_modified, meta={"handle_httpstatus_list": [304]},
                          headers={"If-None-Match": etag, "If-Modified-Since": modified})

    def not_modified(self, response: Response) -> None:
        """Nothing: the floor measures Scrapy's handling of the exchange alone."""

    def parse(self, response: Response) -> Iterator[Request]:
        """A list page: its pagination and entries. A detail page: its attachments."""
        if not isinstance(response, TextResponse):
            return
        pages = PAGER.search(response.text)
        if pages:
            for n in range(1, int(pages[1])):
                yield response.follow(f"index_{n}.html", callback=self.parse)
        for href in response.css("ul.list a::attr(href)").getall():
            yield response.follow(href, callback=self.parse)
        for href in response.css("a::attr(href)").getall():
            if ATTACHMENT.search(href):
                yield response.follow(href, callback=self.parse)
