"""The portal tree, top-down: from the provincial portals to every government's 年报 columns.

From each seed (a provincial portal, ``config/provinces.yaml``) the spider walks down:

- a government's homepage links its subordinate governments, on the page itself or behind a
  站群导航 / 地方政府 / 政府网站 page; a link is a subordinate's portal when its text names one
  of the divisions expected under this one (``nianbao.vocabulary.divisions``), and the
  subordinate's homepage is walked in turn;
- the homepage links the government's 信息公开 platform (maybe on another host, maybe on its
  parent's), which links the government's 年报 column and lists its departments (each body
  whose name is a department's or an office's), each with a 年报 column of its own;
- a column is recognised as the crawl recognises it (``crawler/discovery.py``).

Every request goes through the crawl's middlewares: the address guard, robots.txt, the
per-platform slot (``crawler/platforms.py``) and the archive. A page behind an anti-bot
challenge is opened in Chromium, as the crawl does (``crawler/render.py``): a challenge the
browser passes is no obstacle, one it cannot pass leaves the portal ``blocked``, with the
browser's reason. A page that cannot be read is recorded with its reason (unreachable,
blocked, robots). The walk's findings are in
``spider.tree`` (``crawler/portal_tree.py``) when the crawl ends.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from scrapy import Request, Spider
from scrapy.http import Response, TextResponse

from nianbao.crawler import meta
from nianbao.crawler.challenges import NAMES, challenge_kind
from nianbao.crawler.discovery import is_report_column, leads_to_column, leads_to_portal
from nianbao.crawler.failures import failed_visit
from nianbao.crawler.links import Link, page_links
from nianbao.crawler.portal_tree import Evidence, Portal, Tree, outcome_of
from nianbao.crawler.responses import lower_headers
from nianbao.crawler.vantage import Ways
from nianbao.vocabulary.divisions import children, divisions, match_division
from nianbao.vocabulary.issuers import kind_from_name
from nianbao.vocabulary.titles import title_kind

# Pages that list other governments' portals.
NAVIGATION = re.compile(r"站群导航|地方政府|政府网站|网站群|网站导航|区县政府|市县政府|县区政府|"
                        r"各地政府|地方网站")
PLATFORM = re.compile(r"政府信息公开|信息公开|政务公开")
MAX_NAV_HOPS = 2
MAX_PLATFORM_HOPS = 2
STEP = "nianbao_step"  # home | nav | platform | body | column
CODE = "nianbao_code"
BODY = "nianbao_body"
HOPS = "nianbao_hops"


def load_seeds(path: Path) -> list[dict]:
    """The provincial portals (``config/provinces.yaml``): code, name, homepage, cited."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    seeds = data.get("provinces") or []
    for seed in seeds:
        if str(seed.get("code")) not in divisions() or not seed.get("homepage"):
            raise ValueError(f"{path}: {seed!r}: needs a known 6-digit code and a homepage")
    return seeds


class DiscoverSpider(Spider):
    """``-a seeds=FILE`` (default ``NIANBAO_DISCOVER_SEEDS``) ``-a provinces=330000,…``."""

    name = "discover"

    def __init__(self, seeds: str | None = None, provinces: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seeds_file = seeds
        self.only = {p.strip() for p in (provinces or "").split(",") if p.strip()}
        self.tree = Tree()
        self.ways: Ways | None = None  # each division's way out (crawler/vantage.py)

    # -- start ------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        self.ways = Ways.from_settings(self.settings)
        path = Path(self.seeds_file or self.settings["NIANBAO_DISCOVER_SEEDS"])
        for seed in load_seeds(path):
            code = str(seed["code"])
            if self.only and code not in self.only:
                continue
            portal = self.tree.add(divisions()[code], seed["homepage"], None, "seed")
            if portal is not None:
                yield self.step("home", portal.homepage, code)

    def step(self, kind: str, url: str, code: str, body: str | None = None, hops: int = 0,
             evidence: Evidence | None = None) -> Request:
        return Request(url, callback=getattr(self, f"on_{kind}"), errback=self.failed,
                       meta={STEP: kind, CODE: code, BODY: body, HOPS: hops,
                             "evidence": evidence, meta.SOLVE_ANY: True, meta.REGION: code})

    # -- a government's homepage, and its navigation pages ----------------------------------

    def on_home(self, response: Response) -> Iterator[Request]:
        portal = self.portal(response)
        if not self.readable(response, portal, home=True):
            return
        portal.status = "reached"
        portal.vantage = self.ways.of(portal.code).vantage
        links = page_links(response.selector, response.url)
        yield from self.subordinates(response, portal, links)
        yield from self.platform_links(response, portal, links)

    def on_nav(self, response: Response) -> Iterator[Request]:
        portal = self.portal(response)
        if not isinstance(response, TextResponse):
            return
        links = page_links(response.selector, response.url)
        yield from self.subordinates(response, portal, links)

    def subordinates(self, response: TextResponse, portal: Portal,
                     links: list[Link]) -> Iterator[Request]:
        """Links naming a division under this one: its portal; navigation pages: followed."""
        hops = response.meta[HOPS]
        if not children(portal.code):
            return
        for link in links:
            division, how = match_division(link.text, portal.code)
            if division is not None:
                found = Evidence(response.url, link.text)
                child = self.tree.add(division, link.url, found, how)
                if child is not None:
                    yield self.step("home", link.url, division.code)
            elif how == "ambiguous":
                self.tree.ambiguous.append({"page": response.url, "text": link.text})
            elif NAVIGATION.search(link.text) and hops < MAX_NAV_HOPS:
                yield self.step("nav", link.url, portal.code, hops=hops + 1)

    def platform_links(self, response: TextResponse, portal: Portal,
                       links: list[Link]) -> Iterator[Request]:
        """The government's 信息公开 platform: the first link so named (or its column)."""
        for link in links:
            if leads_to_column(link) and title_kind(link.text) != "report":
                yield self.step("column", link.url, portal.code, portal.government,
                                evidence=Evidence(response.url, link.text))
                return
        for link in links:
            if PLATFORM.search(link.text):
                portal.platform_found = Evidence(response.url, link.text)
                yield self.step("platform", link.url, portal.code, portal.government)
                return

    # -- the 信息公开 platform and its bodies ------------------------------------------------

    def on_platform(self, response: Response) -> Iterator[Request]:
        portal = self.portal(response)
        if not self.readable(response, portal):
            return
        hops = response.meta[HOPS]
        portal.platform = portal.platform or response.url
        portal.body(portal.government).page = response.url
        if is_report_column(response):
            yield from self.on_column(response)
            return
        links = page_links(response.selector, response.url)
        column = next((link for link in links if leads_to_column(link)
                       and title_kind(link.text) != "report"), None)
        if column is not None:
            yield self.step("column", column.url, portal.code, portal.government,
                            evidence=Evidence(response.url, column.text))
        elif hops < MAX_PLATFORM_HOPS:
            for link in links:
                if leads_to_portal(link, hops) and link.url != response.url:
                    yield self.step("platform", link.url, portal.code, portal.government,
                                    hops=hops + 1)
        for link in links:
            if is_body(link.text, portal):
                body = portal.body(link.text.strip())
                if body.page is None:
                    body.page = link.url
                    body.evidence = Evidence(response.url, link.text)
                    yield self.step("body", link.url, portal.code, body.name)

    def on_body(self, response: Response) -> Iterator[Request]:
        portal = self.portal(response)
        if not isinstance(response, TextResponse):
            return
        name = response.meta[BODY]
        if is_report_column(response):
            yield from self.on_column(response)
            return
        for link in page_links(response.selector, response.url):
            if leads_to_column(link) and title_kind(link.text) != "report":
                yield self.step("column", link.url, portal.code, name,
                                evidence=Evidence(response.url, link.text))
                return

    def on_column(self, response: Response) -> Iterator[Request]:
        portal = self.portal(response)
        if isinstance(response, TextResponse) and is_report_column(response):
            body = portal.body(response.meta[BODY])
            if body.column is None:
                body.column = response.url
                body.evidence = response.meta.get("evidence") or body.evidence
        return iter(())

    # -- failures ---------------------------------------------------------------------------

    def readable(self, response: Response, portal: Portal, home: bool = False) -> bool:
        """A text page that is no challenge (a challenge answered with HTTP 200 included)."""
        kind = challenge_kind(response.status, lower_headers(response), response.url,
                              response.body)
        if kind:
            self.note(portal, response.meta[STEP], "challenge", f"{NAMES[kind]} challenge",
                      response.url)
            return False
        return isinstance(response, TextResponse)

    def failed(self, failure) -> None:
        request, reason, detail = failed_visit(failure)
        portal = self.tree.portals.get(request.meta.get(CODE, ""))
        if portal is None:
            return
        self.note(portal, request.meta.get(STEP), reason, detail, request.url)

    def note(self, portal: Portal, step: str | None, reason: str, detail: str, url: str) -> None:
        """A homepage that failed makes the portal unreachable, blocked or robots-closed; a
        platform that failed is recorded on the portal too (it has no column then)."""
        if step == "home" or (step == "platform" and portal.platform is None):
            if step == "home":
                portal.status = outcome_of(reason)
                portal.vantage = self.ways.of(portal.code).vantage
            portal.reason, portal.detail = reason, f"{url}: {detail}"[:500]

    def portal(self, response: Response) -> Portal:
        return self.tree.portals[response.meta[CODE]]


def is_body(text: str, portal: Portal) -> bool:
    """A link naming one of this government's bodies: its office or a department, named with
    the government's place (杭州市教育局, 杭州市人民政府办公室)."""
    name = text.strip()
    place = divisions()[portal.code].name
    return (name.startswith(place) and name != portal.government
            and kind_from_name(name) in ("department", "office")
            and not PLATFORM.search(name))
