"""A replica nation: provincial, prefecture and county portals on loopback, for discovery and
for distributed crawls.

Each government of a few real divisions (``nianbao/vocabulary/divisions.tsv``) gets a portal
``www.gov<code>.test`` whose homepage links its 政府信息公开 platform, and — for a province
or prefecture — its subordinate governments: a province through a 站群导航 page, a prefecture
in a 区县政府 block on its homepage, under the names portals really use (杭州, 杭州市,
杭州市人民政府, …门户网站). The platform lists the government's 年报 column and its
departments (its 办公室 and bureaus), each with a 年报 column of its own. Columns alternate
between two CMS families (TRS ``createPageHTML`` and ``?page=N`` with 下一页), and hold the
seed reports re-issued under each body's name, published on time or late, or none at all.

Some portals are made hard on purpose, by their position among the counties (``TROUBLE``):
not linked from their prefecture, unreachable (HTTP 503 on every page), behind a 瑞数-style
challenge (HTTP 412 with a script that sets a cookie and reloads a second later: a real
browser passes it, a plain HTTP client never does), behind a bot check (the same script, run
only where ``navigator.webdriver`` is false: no automated browser passes it), or closed by
robots.txt (one). Some counties keep
their platform on their prefecture's host (``xxgk.gov<prefecture>.test/county/<code>/``), as
city-wide platforms do: many bodies, one platform.

``heavy`` makes the first governments' reports attachments whose parse is heavy, one kind
each: ``scan`` (an image-only PDF, read by OCR) or ``doc`` (Word 97, converted by
LibreOffice), each linked from a short detail page; the files are rendered once and cached.

The server is an HTTP forward proxy on 127.0.0.1 (``.test`` names never resolve, so the
crawler's address guard leaves them to the proxy, as for any proxied crawl). It logs every
request with when it started and ended, its host and its User-Agent, so a test can check that
no platform was crawled by two crawlers at once.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

from nianbao.vocabulary.divisions import Division, children, divisions
from tests.mockserver import render
from tests.mockserver.documents import default_cache_dir
from tests.mockserver.generated import _variant
from tests.mockserver.server import ReplicaHTTPServer

PROVINCES = ("330000", "140000")  # 浙江省, 山西省
PER_LEVEL = 5
DEPARTMENTS = ("人民政府办公室", "发展和改革局", "教育局")
# A county's position among its province's 25 counties → what is wrong with its portal.
TROUBLE = {3: "unlinked", 8: "unreachable", 13: "challenge", 18: "robots"}
ROBOTS_ONLY_IN = "330000"  # one robots.txt disallow in the nation
BOT_CHECK_IN = "140000"  # there the challenge is a bot check no automated browser passes
CHALLENGED = ("challenge", "bot-check")
SHARED_PLATFORM_EVERY = 4  # every 4th county keeps its platform on its prefecture's host
REPORT_YEAR = 2023
HEAVY_FILES = {"scan": ("pdf", "application/pdf"), "doc": ("doc", "application/msword")}


@dataclass
class Gov:
    division: Division
    trouble: str | None = None
    shared_platform: bool = False
    children: list[Gov] = field(default_factory=list)
    parent: Gov | None = None
    index: int = 0

    @property
    def code(self) -> str:
        return self.division.code

    @property
    def name(self) -> str:
        return self.division.name + "人民政府"

    @property
    def host(self) -> str:
        return f"www.gov{self.code}.test"

    @property
    def homepage(self) -> str:
        return f"http://{self.host}/"

    @property
    def platform(self) -> str:
        if self.shared_platform and self.parent is not None:
            return f"http://xxgk.gov{self.parent.code}.test/county/{self.code}/"
        return f"http://xxgk.gov{self.code}.test/"

    @property
    def family(self) -> str:
        return "trs" if self.index % 2 == 0 else "page-param"

    def bodies(self) -> list[str]:
        """The government and the departments its platform lists."""
        return [self.name, *(self.body(d) for d in DEPARTMENTS)]

    def body(self, department: str) -> str:
        return self.division.name + department

    def column(self, body: str) -> str:
        slug = "zfxxgknb" if body == self.name else f"bm{self.bodies().index(body)}/xxgknb"
        return f"{self.platform}{slug}/"

    def link_text(self) -> str:
        """How the parent's page names this portal: the variants portals use."""
        d = self.division
        return (d.name, d.stem if len(d.stem) >= 2 else d.name, self.name,
                f"{d.name}政府门户网站")[self.index % 4]

    def published(self, body: str) -> datetime | None:
        """When ``body``'s 2023 report was published: on time, late, or never (None)."""
        n = self.bodies().index(body) + self.index
        if n % 7 == 6:
            return None
        if body == self.name:  # governments: by 31 March
            return datetime(2024, 4, 10 + n % 9, 9, tzinfo=UTC) if n % 5 == 4 else \
                datetime(2024, 3, 1 + n % 20, 9, tzinfo=UTC)
        return datetime(2024, 2, 3 + n % 12, 9, tzinfo=UTC) if n % 5 == 3 else \
            datetime(2024, 1, 5 + n % 20, 9, tzinfo=UTC)


def build(provinces: tuple[str, ...] = PROVINCES, per_level: int = PER_LEVEL) -> list[Gov]:
    """The nation's governments, provinces first, each with its children."""
    out = []
    for pcode in provinces:
        province = Gov(divisions()[pcode])
        prefectures = [d for d in children(pcode) if d.level == "prefecture"
                       and children(d.code)][:per_level]
        k = 0
        for i, pd in enumerate(prefectures):
            prefecture = Gov(pd, parent=province, index=i)
            province.children.append(prefecture)
            for j, cd in enumerate(children(pd.code)[:per_level]):
                trouble = TROUBLE.get(k)
                if trouble == "robots" and pcode != ROBOTS_ONLY_IN:
                    trouble = None
                if trouble == "challenge" and pcode == BOT_CHECK_IN:
                    trouble = "bot-check"
                county = Gov(cd, trouble=trouble, parent=prefecture, index=j,
                             shared_platform=k % SHARED_PLATFORM_EVERY == 1)
                prefecture.children.append(county)
                k += 1
        out.append(province)
    return out


def walk(govs: list[Gov]) -> list[Gov]:
    out = []
    for gov in govs:
        out.append(gov)
        out.extend(walk(gov.children))
    return out


def heavy_file(report: render.Report, kind: str) -> bytes:
    """The report as a scan (image-only PDF) or a Word 97 .doc, rendered through LibreOffice
    once and cached by what shapes it (the renderer, the report's text and figures)."""
    ext = HEAVY_FILES[kind][0]
    key = hashlib.sha256(Path(render.__file__).read_bytes() + kind.encode()
                         + repr(report).encode()).hexdigest()[:16]
    cached = default_cache_dir() / f"nation-{kind}-{key}.{ext}"
    if not cached.exists():
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="nation-", dir=cached.parent) as tmp:
            docx = render.write_docx(report, Path(tmp, "report.docx"))
            if kind == "doc":
                made = render.soffice_convert(docx, "doc:MS Word 97", Path(tmp, "out.doc"))
            else:
                pdf = render.soffice_convert(docx, "pdf", Path(tmp, "text.pdf"))
                made = render.rasterise_pdf(pdf, Path(tmp, "scan.pdf"))
            made.replace(cached)
    return cached.read_bytes()


def _page(title: str, body: str, column: bool = False) -> str:
    meta = f"<meta name='ColumnName' content='{render.COLUMN_NAME}'>" if column else ""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'>{meta}"
            f"<title>{render.esc(title)}</title></head><body>{body}</body></html>")


def _links(links: list[tuple[str, str]], cls: str = "list") -> str:
    items = "".join(f'<li><a href="{render.attr(href)}">{render.esc(text)}</a></li>'
                    for href, text in links)
    return f"<ul class='{cls}'>{items}</ul>"


@dataclass
class Hit:
    start: float
    end: float
    host: str
    path: str
    status: int
    agent: str


class Nation:
    """The replica nation served by a proxy on 127.0.0.1 while in a ``with``."""

    def __init__(self, provinces: tuple[str, ...] = PROVINCES, delay: float = 0.0,
                 per_level: int = PER_LEVEL, heavy: tuple[str, ...] = ()):
        self.provinces = build(provinces, per_level)
        self.govs = walk(self.provinces)
        self.delay = delay  # seconds each answer takes (a slow portal)
        self.pages: dict[str, tuple[int, str, bytes]] = {}  # URL → (status, type, body)
        self.hits: list[Hit] = []
        self.heavy: dict[str, str] = {}  # attachment URL → its kind (scan, doc)
        self._heavy_left = list(heavy)
        self._lock = threading.Lock()
        self._server: ReplicaHTTPServer | None = None
        self._seeds = {s: render.load_report(s) for s in render.seed_ids()}
        for gov in self.govs:
            self._portal(gov)

    # -- content ---------------------------------------------------------------------------

    def _put(self, url: str, body: str | bytes, status: int = 200,
             kind: str = "text/html") -> None:
        if isinstance(body, str):
            body, kind = body.encode(), f"{kind}; charset=utf-8"
        self.pages[url] = (status, kind, body)

    def _heavy_report(self, url: str, report: render.Report, kind: str) -> None:
        """The report as a ``kind`` attachment, linked from a short detail page at ``url``."""
        ext, content_type = HEAVY_FILES[kind]
        href = url.rsplit(".", 1)[0] + f".{ext}"
        self._put(href, heavy_file(report, kind), kind=content_type)
        self.heavy[href] = kind
        day = f"{report.published:%Y-%m-%d}"
        self._put(url, _page(report.title, f"<h1>{render.esc(report.title)}</h1>"
                             f"<p>发布日期：{day}</p><p>附件：<a href='{render.attr(href)}'>"
                             f"{render.esc(report.title)}.{ext}</a></p>")
                  .replace("</title>", f"</title><meta name='PubDate' content='{day} 09:00'>"))

    def _portal(self, gov: Gov) -> None:
        home = gov.homepage
        nav = [(gov.platform, "政府信息公开"), ("http://www.gov.cn/", "中国政府网"),
               (home, "首页"), (f"{home}zwfw/", "政务服务")]
        linked = [c for c in gov.children if c.trouble != "unlinked"]
        kids = [(c.homepage, c.link_text()) for c in linked]
        if gov.division.level == "province":
            nav.append((f"{home}zqdh/", "站群导航"))
            self._put(f"{home}zqdh/", _page(f"站群导航_{gov.name}", "<h2>地方政府</h2>"
                                            + _links(kids, "dfzf")))
            body = _links(nav, "nav")
        else:
            body = _links(nav, "nav") + ("<h2>区县政府</h2>" + _links(kids, "qxzf")
                                         if kids else "")
        self._put(home, _page(f"{gov.name}门户网站", body))
        self._put(f"http://{gov.host}/robots.txt",
                  "User-agent: *\nDisallow: /\n" if gov.trouble == "robots"
                  else "User-agent: *\nAllow: /\n", kind="text/plain")
        departments = [(gov.platform + f"bm{i}/", gov.body(d))
                       for i, d in enumerate(DEPARTMENTS, start=1)]
        self._put(gov.platform, _page(
            f"{gov.name}政府信息公开", _links([(gov.column(gov.name), "政府信息公开年报"),
                                               (gov.platform + "zn/", "政府信息公开指南")])
            + "<h2>部门信息公开</h2>" + _links(departments, "bmxxgk")))
        for (url, body), _ in zip(departments, DEPARTMENTS, strict=True):
            self._put(url, _page(f"{body}信息公开", _links(
                [(gov.column(body), "政府信息公开年报"), (url + "zn/", "信息公开指南")])))
        for body in gov.bodies():
            self._column(gov, body)

    def _column(self, gov: Gov, body: str) -> None:
        column = gov.column(body)
        entries = []
        published = gov.published(body)
        if published is not None:
            seed = self._seeds[sorted(self._seeds)[(gov.index + len(body)) % len(self._seeds)]]
            report = replace(_variant(seed, body), report_year=REPORT_YEAR, published=published,
                             title=f"{body}{REPORT_YEAR}年政府信息公开工作年度报告")
            url = f"{column}{published:%Y%m}/t{published:%Y%m%d}_{gov.code}{len(entries)}.html"
            if self._heavy_left and body == gov.name:
                self._heavy_report(url, report, self._heavy_left.pop(0))
            else:
                self._put(url, render.page_html(report, "trs", declare_charset=True))
            entries.append((url, report.title))
        entries.append((f"{column}guide.html", f"{body}政府信息公开指南"))
        self._put(f"{column}guide.html", _page(f"{body}政府信息公开指南", "<p>指南</p>"))
        title = f"{render.COLUMN_NAME}_{body}"
        if gov.family == "trs":
            self._put(column, _page(title, _links(entries) + '<script>createPageHTML(1, 0, '
                                    '"index", "html");</script>', column=True))
        else:  # two pages: the report, then 下一页 → the guide
            pager = f"<div class='page'><a href='{column}?page=2'>下一页</a></div>"
            self._put(column, _page(title, _links(entries[:-1]) + pager, column=True))
            self._put(f"{column}?page=2", _page(title, _links(entries[-1:]), column=True))

    # -- serving ---------------------------------------------------------------------------

    def gov_of_host(self, host: str) -> Gov | None:
        for gov in self.govs:
            if host in (gov.host, urlsplit(gov.platform).hostname):
                return gov
        return None

    def answer(self, url: str, headers) -> tuple[int, str, bytes]:
        parts = urlsplit(url)
        gov = next((g for g in self.govs if g.host == parts.hostname), None)
        if gov is not None and gov.trouble == "unreachable":
            return 503, "text/html; charset=utf-8", b"<h1>503 Service Unavailable</h1>"
        if gov is not None and gov.trouble in CHALLENGED and "FSSBBIl1UgzbN7NT" not in (
                headers.get("Cookie") or ""):
            unless = "if (navigator.webdriver) return; " if gov.trouble == "bot-check" else ""
            script = ("<html><head><script>setTimeout(function () { " + unless
                      + "document.cookie = 'FSSBBIl1UgzbN7NT=1; path=/'; location.reload(); "
                      "}, 1000);</script></head><body></body></html>")
            return 412, "text/html; charset=utf-8", script.encode()
        key = f"{parts.scheme}://{parts.netloc}{parts.path}" + (
            f"?{parts.query}" if parts.query else "")
        if key not in self.pages:
            return 404, "text/html; charset=utf-8", b"<h1>404</h1>"
        return self.pages[key]

    def log(self, host: str | None = None) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if host is None or h.host == host]

    @property
    def proxy_url(self) -> str:
        assert self._server is not None, "the nation is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Nation:
        nation = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                start = time.time()
                url = self.path if self.path.startswith("http") else (
                    f"http://{self.headers.get('Host', '')}{self.path}")
                if nation.delay:
                    time.sleep(nation.delay)
                status, kind, body = nation.answer(url, self.headers)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                parts = urlsplit(url)
                with nation._lock:
                    nation.hits.append(Hit(start, time.time(), parts.hostname or "",
                                           parts.path, status,
                                           self.headers.get("User-Agent", "")))

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ReplicaHTTPServer):

            def handle_error(self, request, client_address) -> None:
                pass  # a client that hangs up is normal here

        self._server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- what the tests expect ---------------------------------------------------------------

    def seeds(self) -> list[dict]:
        """The provinces file discovery starts from: the provincial portals."""
        return [{"code": p.code, "name": p.name, "homepage": p.homepage,
                 "cited": "tests/mockserver/nation.py (replica)"} for p in self.provinces]

    def site_entries(self) -> list[dict]:
        """Site entries for every portal that has its columns reachable, as an operator would
        accept them from discovery (its region, columns and expected bodies with their kinds)."""
        out = []
        for gov in self.govs:
            if gov.trouble is not None:
                continue
            hosts = sorted({gov.host, urlsplit(gov.platform).hostname or ""})
            out.append({"id": f"d{gov.code}", "name": gov.name, "region": gov.code,
                        "homepage": gov.homepage, "domains": hosts,
                        "columns": [{"url": gov.column(b)} for b in gov.bodies()],
                        "issuers": [{"name": b, "kind": "government" if b == gov.name else
                                     ("office" if b.endswith("办公室") else "department")}
                                    for b in gov.bodies()]})
        return out

    def linked(self) -> list[Gov]:
        """Portals a walk from the provinces can find (the provinces themselves included)."""
        out = []
        for gov in self.govs:
            if gov.trouble == "unlinked" or (gov.parent and gov.parent.trouble == "unlinked"):
                continue
            out.append(gov)
        return out
