"""A generated portal of many reports, for benchmarks and load tests.

Not a replica of a real site: one TRS-style 政府信息公开年报 column of ``reports`` entries, each
for its own (invented) body, listed 20 to a page with ``createPageHTML`` pagination. Most
reports are the detail page itself (the seed reports rendered in the three CMS styles, under
another body's name); every ``attachment_every``-th is a short detail page whose DOCX (and
every ``pdf_every``-th, a PDF) attachment holds the report. Every page is static, as TRS
publishes it: ETag and Last-Modified, and a 304 to a conditional request.

``hostile=True`` adds the documents a parser must survive, each on its own detail page titled
as a report: pages whose tables need hundreds of MB to read, a DOCX zip bomb, an XML entity
bomb, HTML nested past libxml2's limit, random bytes named ``.doc`` and a truncated PDF.

    with GeneratedPortal(500) as portal:
        portal.write_sites(path)   # a sites.yaml with the one site entry
"""

from __future__ import annotations

import hashlib
import io
import random
import sys
import tempfile
import threading
import zipfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import yaml

from tests.mockserver import render
from tests.mockserver.server import ReplicaHTTPServer

PER_PAGE = 20
COLUMN = "/xxgk/zfxxgknb/"
STYLES = ("trs", "word", "borderless")
COUNTIES = ("东城县", "西岭县", "南湖区", "北山区", "青河县", "白云县", "石桥区", "长宁县",
            "安平县", "永和区")
DEPARTMENTS = ("发展和改革局", "教育局", "公安局", "民政局", "司法局", "财政局",
               "人力资源和社会保障局", "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局",
               "水利局", "农业农村局", "商务局", "文化和旅游局", "卫生健康委员会", "应急管理局",
               "审计局", "市场监督管理局", "统计局", "医疗保障局", "人民政府办公室", "人民政府")
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PUBLISHED = datetime(2024, 1, 20, 9, 30, tzinfo=UTC)
_PLACEHOLDER = "ISSUER-PLACEHOLDER"


@dataclass(frozen=True)
class Page:
    body: bytes
    content_type: str
    etag: str
    modified: str  # HTTP date


def _page(body: bytes, content_type: str, modified: datetime = PUBLISHED) -> Page:
    etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
    return Page(body, content_type, etag, format_datetime(modified, usegmt=True))


def issuer_name(n: int) -> str:
    """An invented body, distinct for each ``n`` below len(COUNTIES) * len(DEPARTMENTS) * 10."""
    county = COUNTIES[n % len(COUNTIES)]
    department = DEPARTMENTS[(n // len(COUNTIES)) % len(DEPARTMENTS)]
    town = n // (len(COUNTIES) * len(DEPARTMENTS))
    return f"{'第' + str(town + 1) + '试验市' if town else '试验市'}{county}{department}"


def _variant(report: render.Report, issuer: str) -> render.Report:
    """The seed report under another body's name: title, issuer and signature lines."""
    title = f"{issuer}{report.report_year}年政府信息公开工作年度报告"
    blocks = [render.Block("title", title)]
    for block in report.blocks:
        if block.kind == "title":
            continue  # the seed's title lines, replaced by the one above
        if block.kind == "signature":
            block = replace(block, text=block.text.replace(report.issuer, issuer))
        blocks.append(block)
    return replace(report, title=title, issuer=issuer, blocks=tuple(blocks))


def _short_page(title: str, links: list[tuple[str, str]], body: str = "") -> str:
    items = "".join(f'<p>附件：<a href="{render.attr(href)}">{render.esc(text)}</a></p>'
                    for href, text in links)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{render.esc(title)}</title>"
            f"<meta name='ArticleTitle' content='{render.attr(title)}'>"
            f"<meta name='PubDate' content='{PUBLISHED:%Y-%m-%d %H:%M}'></head><body>"
            f"<h1>{render.esc(title)}</h1><p>发布日期：{PUBLISHED:%Y-%m-%d}</p>{body}{items}"
            "</body></html>")


def _hungry_page(rows: int) -> bytes:
    """A report-titled page whose one table has ``rows`` rows: about 100 bytes of memory to
    read per byte of page."""
    cells = "<tr><td>1</td><td>2</td></tr>" * rows
    return _short_page("试验市2023年政府信息公开工作年度报告（数据表）", [],
                       f"<table>{cells}</table>").encode()


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED, level: int = 9) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method, compresslevel=level) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'
                     for i in range(1, 10)) + "]>")


def hostile_documents(hungry: int = 8, hungry_rows: int = 150_000) -> dict[str, tuple[bytes, str]]:
    """Name → (bytes, Content-Type) of each hostile document: ``hungry`` pages that need about
    400 MB each to read (more than a crawl parses at once), and one of each other kind."""
    word = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    rng = random.Random(7)
    return {
        **{f"hungry{i}.html": (_hungry_page(hungry_rows), "text/html; charset=utf-8")
           for i in range(hungry)},
        "bomb.docx": (_zip({"[Content_Types].xml": b"<Types/>",
                            "word/document.xml": b"<w:document>" + b"\0" * (200 * 2**20)}),
                      DOCX_TYPE),
        "laughs.docx": (_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": (
            _LAUGHS + f'<w:document xmlns:w="{word}"><w:body><w:p><w:r><w:t>&lol9;</w:t>'
            "</w:r></w:p></w:body></w:document>").encode()}), DOCX_TYPE),
        "nested.html": (("<html><body>" + "<div>" * 10_000 + "二、主动公开" + "</div>" * 10_000
                         + "</body></html>").encode(), "text/html; charset=utf-8"),
        "noise.doc": (bytes(rng.getrandbits(8) for _ in range(200_000)), "application/msword"),
        "cut.pdf": (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
                    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 4 0 R>>"
                    b"endobj\n4 0 obj<</Length 200>>stream\nBT /F1 12 Tf 72 700 Td (annual rep",
                    "application/pdf"),
    }


class _Server(ReplicaHTTPServer):

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up (a crawl stopped, a download cut at its size limit) is
        normal here; anything else is printed as usual."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class GeneratedPortal:
    """The portal, served on 127.0.0.1 (a free port) from a thread while in a ``with``."""

    def __init__(self, reports: int = 500, *, attachment_every: int = 10, pdf_every: int = 0,
                 hostile: bool = False, cache_dir: Path | None = None):
        self.reports = reports
        self.attachment_every = attachment_every
        self.pdf_every = pdf_every
        self.hostile = hostile
        self.cache_dir = cache_dir
        self.pages: dict[str, Page] = {}
        self._docx_templates: dict[str, dict[str, bytes]] = {}
        self.requests = 0
        self.not_modified = 0
        self.bytes_sent = 0
        self._lock = threading.Lock()
        self._server: ReplicaHTTPServer | None = None

    # -- content ----------------------------------------------------------------------------

    def _build(self) -> None:
        seeds = render.seed_ids()
        base = {s: render.load_report(s) for s in seeds}
        entries: list[tuple[str, str]] = []  # (href, title), newest first as a CMS lists them
        for n in range(self.reports):
            seed = seeds[n % len(seeds)]
            report = _variant(base[seed], issuer_name(n))
            folder = f"{COLUMN}{PUBLISHED:%Y%m}/"
            path = f"{folder}t{PUBLISHED:%Y%m%d}_{1_000_000 + n}.html"
            if self.pdf_every and n % self.pdf_every == self.pdf_every - 1:
                self._attachment(path, report, f"{folder}P0{1_000_000 + n}.pdf",
                                 self._pdf(seed), "application/pdf")
            elif self.attachment_every and n % self.attachment_every == self.attachment_every - 1:
                self._attachment(path, report, f"{folder}P0{1_000_000 + n}.docx",
                                 self._docx(seed, report.issuer), DOCX_TYPE)
            else:
                html = render.page_html(report, STYLES[n % len(STYLES)], declare_charset=True)
                self.pages[path] = _page(html.encode(), "text/html; charset=utf-8")
            entries.append((path, report.title))
        if self.hostile:
            for k, (name, (data, content_type)) in enumerate(hostile_documents().items()):
                title = f"试验市{COUNTIES[k % len(COUNTIES)]}2023年政府信息公开工作年度报告（{k}）"
                if name.endswith(".html"):
                    path = f"{COLUMN}hostile/{name}"
                    self.pages[path] = _page(data, content_type)
                else:
                    path = f"{COLUMN}hostile/{k}.html"
                    self.pages[path] = _page(
                        _short_page(title, [(name, title + name[-5:])]).encode(),
                        "text/html; charset=utf-8")
                    self.pages[f"{COLUMN}hostile/{name}"] = _page(data, content_type)
                entries.append((path, title))
        self._lists(entries)
        self.pages["/robots.txt"] = _page(b"User-agent: *\nAllow: /\n", "text/plain")

    def _attachment(self, path: str, report: render.Report, href: str, data: bytes,
                    content_type: str) -> None:
        self.pages[href] = _page(data, content_type)
        page = _short_page(report.title, [(href, report.title + href[-5:])])
        self.pages[path] = _page(page.encode(), "text/html; charset=utf-8")

    def _docx(self, seed: str, issuer: str) -> bytes:
        """The seed's DOCX with ``issuer`` in its title and signature. Rendering takes a second,
        so each seed is rendered once, under a placeholder name, and the name put in after."""
        if seed not in self._docx_templates:
            report = _variant(render.load_report(seed), _PLACEHOLDER)
            with tempfile.TemporaryDirectory(prefix="nianbao-generated-") as tmp:
                path = render.write_docx(report, Path(tmp, "report.docx"))
                with zipfile.ZipFile(path) as z:
                    self._docx_templates[seed] = {n: z.read(n) for n in z.namelist()}
        members = self._docx_templates[seed]
        name = "word/document.xml"
        xml = members[name].replace(_PLACEHOLDER.encode(), render.esc(issuer).encode())
        return _zip({**members, name: xml}, zipfile.ZIP_DEFLATED, 6)

    def _pdf(self, seed: str) -> bytes:
        from tests.mockserver.documents import DocumentStore

        return DocumentStore(self.cache_dir).file(seed, "pdf")

    def _lists(self, entries: list[tuple[str, str]]) -> None:
        count = max(1, -(-len(entries) // PER_PAGE))
        for page in range(count):
            chunk = entries[page * PER_PAGE:(page + 1) * PER_PAGE]
            items = "".join(
                f'<li><a href="{render.attr(href)}" title="{render.attr(title)}">'
                f"{render.esc(title)}</a><span>{PUBLISHED:%Y-%m-%d}</span></li>"
                for href, title in chunk)
            html = (f"<!DOCTYPE html><html><head><meta charset='utf-8'>"
                    f"<meta name='ColumnName' content='{render.COLUMN_NAME}'>"
                    f"<title>{render.COLUMN_NAME}</title></head><body>"
                    f"<ul class='list'>{items}</ul><script>createPageHTML({count}, {page}, "
                    f'"index", "html");</script></body></html>')
            name = "index.html" if page == 0 else f"index_{page}.html"
            self.pages[f"{COLUMN}{name}"] = _page(html.encode(), "text/html; charset=utf-8")

    # -- serving -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the portal is not running"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def column_url(self) -> str:
        return f"{self.base_url}{COLUMN}index.html"

    def site_entry(self, site_id: str = "generated") -> dict:
        return {"id": site_id, "name": "试验市人民政府", "domains": ["127.0.0.1"],
                "columns": [{"url": self.column_url, "pagination": "trs"}], "render": "never",
                "allow_private": ["127.0.0.1"]}

    def write_sites(self, path: Path, site_id: str = "generated") -> Path:
        path.write_text(yaml.safe_dump({"sites": [self.site_entry(site_id)]},
                                       allow_unicode=True), encoding="utf-8")
        return path

    def urls(self, suffix: str = "") -> list[str]:
        return [self.base_url + p for p in self.pages if p.endswith(suffix)]

    def counters(self) -> dict[str, int]:
        with self._lock:
            return {"requests": self.requests, "not_modified": self.not_modified,
                    "bytes_sent": self.bytes_sent}

    def __enter__(self) -> GeneratedPortal:
        self._build()
        portal = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                page = portal.pages.get(self.path.split("?", 1)[0])
                if page is None:
                    self._send(404, b"not found", "text/plain", ())
                elif self._fresh(page):
                    self._send(304, b"", None, (("ETag", page.etag),
                                                ("Last-Modified", page.modified)))
                else:
                    self._send(200, page.body, page.content_type,
                               (("ETag", page.etag), ("Last-Modified", page.modified)))

            def _fresh(self, page: Page) -> bool:
                tags = self.headers.get("If-None-Match")
                if tags is not None:
                    return page.etag in {t.strip() for t in tags.split(",")}
                since = self.headers.get("If-Modified-Since")
                try:
                    return since is not None and (parsedate_to_datetime(since)
                                                  >= parsedate_to_datetime(page.modified))
                except (TypeError, ValueError):
                    return False

            def _send(self, status: int, body: bytes, content_type: str | None,
                      headers: tuple[tuple[str, str], ...]) -> None:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                with portal._lock:
                    portal.requests += 1
                    portal.not_modified += status == 304
                    portal.bytes_sent += len(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def main() -> None:
    """``python -m tests.mockserver.generated [N] [--hostile]``: serve until interrupted."""
    n = int(next((a for a in sys.argv[1:] if a.isdigit()), "500"))
    with GeneratedPortal(n, hostile="--hostile" in sys.argv) as portal:
        print(portal.column_url, flush=True)
        threading.Event().wait(timedelta(days=1).total_seconds())


if __name__ == "__main__":
    main()
