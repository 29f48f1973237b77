"""The download handler: Scrapy's HTTP client for ordinary requests, Chromium (scrapy-playwright)
for the requests that ask for it, with Playwright loaded and started only when the first of
those comes.

scrapy-playwright starts its Playwright driver (a Node.js process, one per handler: http and
https) when the engine starts, and the crawl waits for both before its first request — about
a second and a half of every crawl, most of an unchanged recrawl's time, although most sites
never need a browser; importing it (Playwright's API, aiohttp) costs most of a second more.
Here both wait for the first browser request; what the browser does once started is
scrapy-playwright's own, and then the page is left to settle (``render.settled_content``)
before the download ends.
"""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Response

from nianbao.crawler import meta
from nianbao.crawler.render import settled_content


class LazyPlaywrightHandler(HTTP11DownloadHandler):
    """Scrapy's own HTTP/1.1 handler, which hands requests with ``meta["playwright"]`` to a
    ``ScrapyPlaywrightDownloadHandler`` made (and launched) at the first of them."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._browser: Any = None  # the scrapy-playwright handler, once a page needs it
        self._start_lock = asyncio.Lock()

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get("playwright"):
            return await super().download_request(request)
        browser = self._browser or await self._start_browser()
        response = await browser.download_request(request)
        page, settle = request.meta.get("playwright_page"), request.meta.get(meta.SETTLE)
        if page is not None and settle is not None:
            # Still the download: whatever the page asks its portal for while it settles (a
            # challenge's reload) is this request's, and the next one waits its turn.
            request.meta[meta.SETTLED] = await settled_content(page, *settle)
        return response

    async def _start_browser(self) -> Any:
        async with self._start_lock:
            if self._browser is None:
                from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

                class Browser(ScrapyPlaywrightDownloadHandler):
                    async def _maybe_launch_in_thread(self) -> None:
                        """Engine start has passed: launched below, not by its signal."""

                browser = Browser(self._crawler)
                await browser._launch()
                self._browser = browser
        return self._browser

    async def close(self) -> None:
        await super().close()
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
