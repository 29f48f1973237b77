"""The address guard inside Chromium: every request a rendered page makes, every redirect hop,
WebSockets, and the address the browser actually connected to.

Playwright's ``page.route`` sees a request once, not its redirect hops, so a detail link (or a
script's ``fetch()``) that answers 302 to an internal address would be followed unseen. The
DevTools ``Fetch`` domain pauses every request, redirect hops included, before it leaves:
each is judged with the site's own allowance (``crawler/addresses.py``) and failed with
``BlockedByClient`` when refused. WebSockets are not needed to read a report and are never
connected. Chromium never resolves a page's host: without an upstream ``--proxy``, pages go
through ``browser_proxy.py``, which connects to the addresses this guard checked (pinned), so
a name that answers an internal address the second time (DNS rebinding) is never contacted
there.

Scrapy-playwright calls :func:`guard_page` (``playwright_page_init_callback``) before the page
navigates; ``RenderMiddleware`` refuses a page whose guard is not in place.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from scrapy import Request

from nianbao.crawler import meta
from nianbao.crawler.addresses import forbidden_address

logger = logging.getLogger(__name__)

_LOCAL_SCHEMES = ("data:", "blob:", "about:")


@dataclass(frozen=True)
class Refusal:
    url: str
    why: str
    document: bool  # the page's own document (a navigation of its main frame), not a part


def rules(allowed: frozenset[str], via_proxy: bool) -> dict:
    """What travels in a browser request's meta for :func:`guard_page`."""
    return {"allowed": sorted(allowed), "via_proxy": via_proxy}


async def guard_page(page, request: Request) -> None:
    """Install the guard on ``page`` for ``request`` (its meta carries the site's rules)."""
    conf = request.meta.get(meta.BROWSER_RULES) or {}
    allowed = frozenset(conf.get("allowed", ()))
    via_proxy = bool(conf.get("via_proxy"))
    refused: list[Refusal] = []
    request.meta[meta.BROWSER_REFUSED] = refused
    request.meta[meta.BROWSER_PAGE] = page  # closed by RenderMiddleware, whatever happens
    session = await page.context.new_cdp_session(page)
    tree = await session.send("Page.getFrameTree")
    main_frame = tree["frameTree"]["frame"]["id"]
    pending: set[asyncio.Task] = set()

    async def judge(event: dict) -> None:
        url = event["request"]["url"]
        why = None
        if not url.startswith(_LOCAL_SCHEMES):
            why = await asyncio.to_thread(forbidden_address, url, allowed, via_proxy)
        try:
            if why:
                document = (event.get("resourceType") == "Document"
                            and event.get("frameId") == main_frame)
                refused.append(Refusal(url, why, document))
                logger.warning("browser request refused: %s (%s)", url, why)
                await session.send("Fetch.failRequest", {"requestId": event["requestId"],
                                                         "errorReason": "BlockedByClient"})
            else:
                await session.send("Fetch.continueRequest", {"requestId": event["requestId"]})
        except Exception as exc:  # the page closed while the request waited
            logger.debug("browser guard: %s", exc)

    def paused(event: dict) -> None:
        task = asyncio.ensure_future(judge(event))
        pending.add(task)
        task.add_done_callback(pending.discard)

    session.on("Fetch.requestPaused", paused)
    await session.send("Fetch.enable", {"patterns": [{"urlPattern": "*",
                                                      "requestStage": "Request"}]})

    async def no_socket(socket) -> None:
        refused.append(Refusal(socket.url, "WebSockets are not opened", False))
        await socket.close(code=1008, reason="refused by nianbao")

    await page.route_web_socket("**", no_socket)

    request.meta[meta.BROWSER_GUARDED] = True


def document_refusal(request: Request, final_url: str | None,
                     allowed: frozenset[str], via_proxy: bool) -> str | None:
    """Why the page a browser request ended on must not be kept, or None."""
    if not request.meta.get(meta.BROWSER_GUARDED):
        return "the browser's request guard was not in place"
    for refusal in request.meta.get(meta.BROWSER_REFUSED) or ():
        if refusal.document:
            return f"{refusal.url}: {refusal.why}"
    if final_url is not None:
        if not final_url.startswith(("http:", "https:")):
            return f"the page ended on {final_url.split('?', 1)[0]}, not on a web address"
        return forbidden_address(final_url, allowed, via_proxy)
    return None
