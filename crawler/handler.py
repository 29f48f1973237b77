"""The download handler: Scrapy's HTTP client for ordinary requests, Chromium (scrapy-playwright)
for the requests that ask for it, with Playwright started only when the first of those comes.

scrapy-playwright starts its Playwright driver (a Node.js process, one per handler: http and
https) when the engine starts, and the crawl waits for both before its first request — about
a second and a half of every crawl, most of an unchanged recrawl's time, although most sites
never need a browser. Here that start is deferred to the first browser request; what the
browser does once started is scrapy-playwright's own.
"""

from __future__ import annotations

import asyncio

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler


class LazyPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    """``ScrapyPlaywrightDownloadHandler`` whose Playwright starts at the first browser
    request instead of at engine start."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._start_lock = asyncio.Lock()
        self._started = False

    async def _maybe_launch_in_thread(self) -> None:
        """Engine start: nothing to launch yet (see the module docstring)."""

    async def _download_request(self, request: Request, spider: Spider | None = None
                                ) -> Response:
        if not self._started:
            async with self._start_lock:
                if not self._started:
                    await self._launch()
                    self._started = True
        return await super()._download_request(request, spider)
