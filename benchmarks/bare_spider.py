"""The baseline of ``benchmarks/crawl.py``: a bare Scrapy spider that fetches what nianbao
fetches on the generated portal (the column's list pages, every detail page, every attachment)
and does nothing else — no parsing, no storage, no archive.

    scrapy runspider benchmarks/bare_spider.py -a start=URL
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from scrapy import Request, Spider
from scrapy.http import Response, TextResponse

PAGER = re.compile(r"createPageHTML\((\d+),\s*0,")
ATTACHMENT = re.compile(r"\.(pdf|docx?|wps)$")


class BareSpider(Spider):
    name = "bare"

    def __init__(self, start: str, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [start]

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
