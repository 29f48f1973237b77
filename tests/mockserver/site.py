"""One replica portal answering requests: its pages, endpoints, challenge, traps and delay.

Order of a request, as on a real portal: the slow network (delay), the scheme the host
serves, the anti-bot gateway (challenge, which sees every request, robots.txt included), then
the site: robots.txt, dynamic endpoints, static pages, 404.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from tests.mockserver import chrome, traps
from tests.mockserver.challenges import CHALLENGES, Unpassable
from tests.mockserver.content import LOOKALIKES, NOT_FOUND, SOFT_404, STUBS
from tests.mockserver.documents import FILE_KINDS, DocumentStore
from tests.mockserver.families import FAMILIES
from tests.mockserver.families.base import newest
from tests.mockserver.http import Request, Response, html
from tests.mockserver.portals import Item, Portal

ROBOTS = b"User-agent: *\nDisallow: /search\n"
NEWS = (
    "区政府召开常务会议研究部署近期重点工作",
    "全区安全生产工作会议召开",
    "我区开展政务服务“好差评”工作",
)
Route = Callable[[], Response]


class Site:
    """The hosts of one portal (and its front host, when it has one)."""

    def __init__(self, portal: Portal, documents: DocumentStore, delay: float | None = None):
        self.portal = portal
        self.family = FAMILIES[portal.family]
        self.documents = documents
        self.delay = portal.delay_seconds if delay is None else delay
        self.challenge = CHALLENGES[portal.challenge]() if portal.challenge else None
        if self.challenge and not portal.challenge_passable:
            self.challenge = Unpassable(self.challenge)
        self.robots = ROBOTS if portal.robots is None else portal.robots.encode()
        self.routes = self._routes()
        self.front_routes = self._front_routes() if portal.front_host else {}

    @property
    def hosts(self) -> tuple[str, ...]:
        return (*self.portal.hosts, *filter(None, [self.portal.front_host]))

    def url(self, path: str) -> str:
        return self.portal.origin + path

    def item_url(self, item: Item) -> str:
        return item.href or self.url(self.family.detail_path(self.portal, item))

    def attachment_url(self, item: Item) -> str:
        return self.url(self.family.attachment_path(self.portal, item, item.holder))

    # ------------------------------------------------------------------ answering

    def handle(self, request: Request) -> Response:
        if self.delay:
            time.sleep(self.delay)
        if request.scheme not in self.portal.schemes:
            if request.scheme == "http":
                location = f"https://{request.host}{request.target}"
                return Response(301, b"", "text/html", (("Location", location),))
            return Response(502, b"replica: this host does not serve https", "text/plain")
        if self.challenge and (answer := self.challenge.check(request)):
            return answer
        request = replace(request, target=traps.strip_session(request.target))
        path = request.path
        if location := self.portal.redirects.get(path):
            return Response(302, b"", "text/html", (("Location", location),))
        if path == "/robots.txt":
            plain = "text/plain; charset=utf-8" if self.portal.declare_charset else "text/plain"
            return Response(200, self.robots, plain, last_modified=newest(self.portal))
        front = request.host == self.portal.front_host
        routes = self.front_routes if front else self.routes
        if not front and (dynamic := self._dynamic(request)):
            return dynamic
        if route := routes.get(path):
            return route()
        if not path.endswith("/") and path + "/" in routes:
            return Response(301, b"", "text/html", (("Location", path + "/"),))
        return html(NOT_FOUND, status=404)

    def _dynamic(self, request: Request) -> Response | None:
        if answer := self.family.endpoint(self.portal, request):
            return answer
        if answer := traps.endpoint(self.portal, request):
            return answer
        if request.path == "/search":
            words = chrome.esc(request.query.get("q", ""))
            main = f"<h2>站内搜索</h2><p>“{words}”共找到0条结果。</p>"
            return traps.respond(self.portal, chrome.page(self.portal, title="站内搜索", main=main))
        if request.path == "/" and "jsessionid" in self.portal.traps:
            return traps.respond(self.portal, self._home())
        return None

    # ------------------------------------------------------------------ pages

    def _static(self, text: str, item: Item | None = None) -> Route:
        """A fixed HTML page in the portal's encoding, dated by ``item`` or by the column."""
        modified = item.published if item else newest(self.portal)
        response = html(text, encoding=self.portal.encoding, declare=self.portal.declare_charset,
                        last_modified=modified)
        return lambda: response

    def _home(self, gateway: str | None = None) -> str:
        """A homepage: news, and quick links of which one leads to the 政府信息公开 page."""
        portal = self.portal
        quick = [("政府信息公开", gateway or portal.gateway), ("政府信息公开指南", "/xxgkzn/"),
                 ("站内搜索", "/search?q=年报")]
        if "calendar" in portal.traps:
            quick.append(("活动日历", traps.calendar_link(traps.CALENDAR_START)))
        news = [(title, "/xwdt/") for title in NEWS]
        main = (f'<div class="news"><h3>要闻动态</h3><ul>{chrome.links(news)}</ul></div>\n'
                f'<div class="quick"><h3>快速通道</h3><ul>{chrome.links(quick)}</ul></div>')
        return chrome.page(portal, title="首页", main=main, interact=traps.interact_link(portal),
                           gateway=gateway)

    def _gateway(self) -> str:
        portal = self.portal
        entries = [(STUBS[s][0], f"/{s}/") for s in chrome.SIBLINGS]
        entries.append((chrome.COLUMN_NAME, self.family.column_href(portal)))
        main = f'<h2>{chrome.GATEWAY_NAME}</h2><ul class="xxgk-nav">{chrome.links(entries)}</ul>'
        return chrome.page(portal, title=chrome.GATEWAY_NAME, main=main,
                           crumbs=[(chrome.GATEWAY_NAME, portal.gateway)])

    def _stubs(self, gateway: str | None = None) -> dict[str, Route]:
        routes = {}
        for slug, (title, text) in STUBS.items():
            main = f"<h2>{title}</h2><p>{text}</p>"
            routes[f"/{slug}/"] = self._static(
                chrome.page(self.portal, title=title, main=main, gateway=gateway)
            )
        sitemap = [("首页", "/"), (chrome.GATEWAY_NAME, gateway or self.portal.gateway)]
        sitemap += [(title, f"/{slug}/") for slug, (title, _) in STUBS.items()]
        main = f"<h2>网站地图</h2><ul>{chrome.links(sitemap)}</ul>"
        routes["/wzdt/"] = self._static(
            chrome.page(self.portal, title="网站地图", main=main, gateway=gateway)
        )
        return routes

    def _routes(self) -> dict[str, Route]:
        portal, family = self.portal, self.family
        routes = self._stubs()
        gateway = self._static(self._gateway())
        routes["/"] = gateway if portal.gateway == "/" else self._static(self._home())
        routes[portal.gateway] = gateway
        for path, text in family.list_pages(portal).items():
            routes[path] = self._static(text)
        for path, (body, content_type) in family.assets(portal).items():
            routes[path] = self._asset(body, content_type)
        for item in portal.items:
            path = family.detail_path(portal, item)
            if item.kind == "report":
                routes[path] = self._report_page(item)
                if item.holder != "html":
                    routes[family.attachment_path(portal, item, item.holder)] = self._file(item)
            elif item.kind == "lookalike":
                body = LOOKALIKES[item.key.split(":", 1)[1]].body(
                    portal.name, portal.host, portal.site_code
                )
                routes[path] = self._static(self._detail(item, body), item)
            elif item.kind == "soft404":
                text = SOFT_404.format(charset=chrome.charset_meta(portal), name=portal.name)
                routes[path] = self._static(text, item)
        return routes

    def _front_routes(self) -> dict[str, Route]:
        """The government's main site: a homepage whose 政务公开 goes to the 信息公开 host."""
        gateway = self.url(self.portal.gateway)
        routes = self._stubs(gateway)
        routes["/"] = self._static(self._home(gateway))
        return routes

    def _asset(self, body: bytes, content_type: str) -> Route:
        response = Response(200, body, content_type, last_modified=newest(self.portal))
        return lambda: response

    def _detail(self, item: Item, body: str) -> str:
        head = self.family.detail_head(self.portal, item)
        return chrome.detail_page(self.portal, item, body, source=item.source, head=head)

    def _report_page(self, item: Item) -> Route:
        """The detail page of a report: the report itself (html holder, re-rendered on every
        request so that revisions show) or a page pointing to its attachment."""
        assert item.seed_id is not None
        seed_id = item.seed_id
        if item.holder != "html":
            href = self.family.attachment_href(self.portal, item, item.holder)
            return self._static(self._detail(item, chrome.attachment_body(item.title, href,
                                                                          item.holder)), item)

        def route() -> Response:
            text = self._detail(item, self.documents.html_body(seed_id, item.style))
            return html(text, encoding=self.portal.encoding, declare=self.portal.declare_charset,
                        last_modified=self.documents.modified(seed_id, item.published))

        return route

    def _file(self, item: Item) -> Route:
        assert item.seed_id is not None
        seed_id, kind = item.seed_id, item.holder

        def route() -> Response:
            body = self.documents.file(seed_id, kind)
            modified = self.documents.modified(seed_id, item.published)
            return Response(200, body, FILE_KINDS[kind], last_modified=modified)

        return route
