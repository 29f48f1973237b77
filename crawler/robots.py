"""Scrapy's robots.txt rules, remembering how each host's robots.txt was read.

An observation must tell "robots.txt forbids the column" (the site is not observable without
an operator's override) from "robots.txt could not be fetched" (no rule was applied), and a
robots.txt that cannot be fetched is the site's failure, not a traceback in the log.
"""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from nianbao.crawler import meta
from nianbao.crawler.challenges import NAMES, challenge_kind
from nianbao.crawler.failures import failure_reason
from nianbao.crawler.responses import lower_headers

logger = logging.getLogger(__name__)


class RobotsMiddleware(RobotsTxtMiddleware):
    """``ROBOTSTXT_OBEY`` as Scrapy does it; ``read[host]`` says how robots.txt was read."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.read: dict[str, str] = {}

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            url = urlparse_cached(request)
            # Judged by the address guard with the allowance of the site it is for (its
            # allow_private), like the site's pages; otherwise not one of the site's requests
            # (no budget, no rendering, no progress).
            site_id = request.meta.get(meta.SITE)
            robots = Request(f"{url.scheme}://{netloc}/robots.txt", priority=self.DOWNLOAD_PRIORITY,
                             meta={"dont_obey_robotstxt": True,
                                   **({meta.GUARD_FOR: site_id} if site_id else {}),
                                   **({meta.REGION: request.meta[meta.REGION]}
                                      if meta.REGION in request.meta else {})},
                             callback=NO_CALLBACK)
            try:
                response = await self.crawler.engine.download_async(robots)
                self.read[netloc] = self._describe(response)
                await self._parse_robots(response, netloc, request)
            except Exception as exc:
                reason, detail = failure_reason(Failure(exc))
                self.read[netloc] = f"robots.txt could not be fetched ({reason}): no rule applied"
                if not isinstance(exc, IgnoreRequest):
                    logger.warning("%s: %s", robots.url, self.read[netloc])
                self._robots_error(exc, netloc)
                self._record(site_id, robots.url, reason, detail)
            self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            return await maybe_deferred_to_future(parser)
        return parser

    def _record(self, site_id: str | None, url: str, reason: str, detail: str) -> None:
        """A robots.txt that could not be fetched is a failure of its site, with its reason."""
        from nianbao.crawler.recorder import CrawlRecorder

        run = self.crawler.get_extension(CrawlRecorder) if site_id else None
        if run is not None and run.run_id is not None:
            run.fail(site_id, url, reason, f"robots.txt could not be fetched: {detail}")

    @staticmethod
    def _describe(response) -> str:
        if response.status == 200:
            return "robots.txt read"
        challenge = challenge_kind(response.status, lower_headers(response), response.url,
                                   response.body)
        if challenge:
            return (f"robots.txt answered with the {NAMES[challenge]} challenge: no rule "
                    "applied")
        if response.status == 404:
            return "no robots.txt (HTTP 404): no rule applies"
        return f"robots.txt answered HTTP {response.status}: no rule applied"

    def how_read(self, url: str) -> str | None:
        """How the robots.txt of ``url``'s host was read, if it was asked for."""
        return self.read.get(urlparse_cached(Request(url)).netloc)
