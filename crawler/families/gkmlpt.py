"""Guangdong 集约化 政府信息公开目录 (gkmlpt): the column page is a script application whose
``window._CONFIG`` names the site (``SID``) and its categories; entries come from
``/gkmlpt/api/all/<category>?page=N&sid=<sid>`` as JSON. Some sites serve everything on page 1
and answer 404 after it: that 404 ends the list."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from scrapy import Request
from scrapy.http import Response, TextResponse

from nianbao.crawler import meta
from nianbao.crawler.families.base import Family, ListError, ListPage, Reading, page_number
from nianbao.crawler.links import Link, gkmlpt_api
from nianbao.crawler.meta import Role


class Gkmlpt(Family):
    name = "gkmlpt"

    def detect(self, response: TextResponse, column: str) -> bool:
        return gkmlpt_api(response.text, column) is not None

    def read(self, response: Response, reading: Reading) -> ListPage:
        text = response.text if isinstance(response, TextResponse) else ""
        seen = response.meta.get(meta.FEED_STATE)
        if seen is None:  # the column page: its API
            api = gkmlpt_api(text, reading.column)
            return ListPage(more=[self.feed(api, 1, 0)] if api else [])
        try:
            data = json.loads(text)
        except ValueError:
            raise ListError("bad-json", "the gkmlpt API did not return JSON") from None
        articles = data.get("articles") or []
        page = ListPage(feed=True)
        for article in articles:
            href = article.get("url") or article.get("post_url")
            if href:
                date = str(article.get("created_at") or "")[:10] or None
                page.entries.append(Link(urljoin(response.url, href),
                                         str(article.get("title", "")), date))
        seen += len(articles)
        number = page_number(response)
        if articles and seen < int(data.get("total") or 0):
            if number >= reading.max_pages:
                page.truncated = True
            else:
                parts = urlsplit(response.url)
                query = dict(parse_qsl(parts.query))
                query["page"] = str(number + 1)
                page.more = [self.feed(parts._replace(query=urlencode(query)).geturl(),
                                       number + 1, seen)]
        return page

    def feed(self, url: str, number: int, seen: int) -> Request:
        """API page ``number`` (1-based, as the API counts), ``seen`` articles before it."""
        return Request(url, meta={meta.ROLE: Role.FEED, meta.LIST_PAGE: number,
                                  meta.FEED_STATE: seen})

    def list_ended(self, request: Request, status: int) -> bool:
        return status == 404 and request.meta.get(meta.LIST_PAGE, 0) > 1
