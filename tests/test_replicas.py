"""The replica portals over real HTTP, through the replica server as a proxy: urllib for http
and https (CONNECT), Chromium (Playwright) for what only a browser sees or passes.

These tests pin what the crawler tests rely on: list pagination as each CMS does it, caching
validators, the GBK page without a charset, the challenges and how they are passed, silent
revisions, bad links, traps, and the manifest that describes it all.
"""

from __future__ import annotations

import io
import json
import re
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from urllib.parse import urljoin

import pytest
from docx import Document

from tests.conftest import require_tool
from tests.mockserver import ReplicaServer
from tests.mockserver.challenges import answer

JCCQ_COLUMN = "http://xxgk.jccq.gov.cn/qzf/qzfb/zfxxgknb/"
QUWO = "http://www.quwo.gov.cn"
SFT = "http://www.syssft.gov.cn"
GKMLPT = "https://www.lg.gov.cn"
HANWEB = "https://www.sx.gov.cn"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are part of what is tested (challenges, scheme changes): never follow them."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Client:
    """urllib through the replica proxy, TLS unverified (the proxy's certificate is made up)."""

    def __init__(self, server: ReplicaServer) -> None:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        proxies = {"http": server.proxy_url, "https": server.proxy_url}
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler(proxies),
            urllib.request.HTTPSHandler(context=context),
            NoRedirect(),
        )

    def get(
        self, url: str, headers: dict[str, str] | None = None, *, data: bytes | None = None,
        method: str | None = None,
    ) -> tuple[int, Message, bytes]:
        request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()


def set_cookies(headers: Message) -> dict[str, str]:
    return dict(c.split(";")[0].split("=", 1) for c in headers.get_all("Set-Cookie") or ())


def cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


def ruishu_cookies(client: Client, url: str) -> dict[str, str]:
    """What a browser holds after the 412 page's script ran: S from the server, T computed."""
    status, headers, body = client.get(url)
    assert status == 412
    (s_name, nonce), = set_cookies(headers).items()
    assert re.search(rf'\$_ts\.cd="{nonce}"', body.decode())
    return {s_name: nonce, s_name[:-1] + "T": answer(nonce)}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplicaServer]:
    cache = tmp_path_factory.mktemp("replica-cache")
    with ReplicaServer(cache_dir=cache, prerender=False, delays={"sifangtai": 0}) as replica:
        yield replica


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ReplicaServer]:
    """A server of its own, for tests that change the replicas (revisions) or time them."""
    with ReplicaServer(cache_dir=tmp_path, prerender=False, delays={"sifangtai": 0}) as replica:
        yield replica


@pytest.fixture(scope="module")
def client(server: ReplicaServer) -> Client:
    return Client(server)


def report(server: ReplicaServer, seed_prefix: str) -> dict:
    (entry,) = [r for r in server.manifest()["reports"] if r["seed_id"].startswith(seed_prefix)]
    return entry


def meta(page: str, name: str) -> str:
    match = re.search(rf'<meta name="{name}" content="([^"]*)">', page)
    assert match, f"no meta {name}"
    return match.group(1)


# ------------------------------------------------------------------------ proxying


def test_unknown_hosts_get_502_and_are_logged(server: ReplicaServer, client: Client) -> None:
    status, _, body = client.get("http://zwgk.example-province.gov.cn/zfxxgknb/index.html")
    assert (status, body) == (502, b"replica: unknown host")
    with pytest.raises(urllib.error.URLError, match="502"):
        client.get("https://nowhere.example.gov.cn/")
    status, _, _ = client.get("http://169.254.169.254/latest/meta-data/")
    assert status == 502
    assert [e.method for e in server.log("nowhere.example.gov.cn")] == ["CONNECT"]
    assert server.log("169.254.169.254")[-1].target == "/latest/meta-data/"


def test_direct_mode_serves_by_host_header(server: ReplicaServer) -> None:
    request = urllib.request.Request(
        f"{server.proxy_url}/qzf/qzfb/zfxxgknb/", headers={"Host": "xxgk.jccq.gov.cn"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert "政府信息公开年报" in response.read().decode()
    with urllib.request.urlopen(server.proxy_url, timeout=10) as response:
        assert "xxgk.jccq.gov.cn" in response.read().decode()


def test_request_log_counts_bytes(server: ReplicaServer, client: Client) -> None:
    server.clear_log()
    _, headers, body = client.get("http://www.jccq.gov.cn/")
    (entry,) = server.log()
    assert (entry.client, entry.method, entry.host, entry.target) == (
        "urllib", "GET", "www.jccq.gov.cn", "/",
    )
    assert entry.bytes > len(body) == int(headers["Content-Length"])
    assert server.bytes_served("www.jccq.gov.cn") == entry.bytes
    assert server.bytes_served("xxgk.jccq.gov.cn") == 0
    assert entry.headers["User-Agent"].startswith("Python-urllib")


def test_robots_and_favicon(client: Client) -> None:
    status, headers, body = client.get("http://xxgk.jccq.gov.cn/robots.txt")
    assert status == 200 and headers["Content-Type"] == "text/plain; charset=utf-8"
    assert b"Disallow: /search" in body
    assert client.get("http://xxgk.jccq.gov.cn/favicon.ico")[0] == 404


# ------------------------------------------------------------------------ families


def test_trs_pagination_matches_create_page_html(server: ReplicaServer, client: Client) -> None:
    _, _, column = client.get(JCCQ_COLUMN)
    _, _, first = client.get(JCCQ_COLUMN + "index.html")
    assert column == first
    count = int(re.search(rb'createPageHTML\((\d+), 0, "index", "html"\)', first).group(1))
    assert count == 2
    links = re.findall(rb'<li><a href="(\./\d{6}/t\d{8}_\d+\.shtml|http[^"]+)"', first)
    for n in range(1, count):
        status, _, page = client.get(JCCQ_COLUMN + f"index_{n}.html")
        assert status == 200
        assert f'createPageHTML({count}, {n}, "index", "html")'.encode() in page
        links += re.findall(rb'<li><a href="(\./\d{6}/t\d{8}_\d+\.shtml|http[^"]+)"', page)
    assert client.get(JCCQ_COLUMN + f"index_{count}.html")[0] == 404
    portal = next(p for p in server.manifest()["portals"] if p["id"] == "jccq")
    assert portal["list_urls"] == [JCCQ_COLUMN + "index.html", JCCQ_COLUMN + "index_1.html"]
    urls = {urljoin(JCCQ_COLUMN, link.decode()) for link in links}
    assert report(server, "000")["page_url"] in urls
    assert report(server, "003")["page_url"] in urls


def test_detail_page_carries_meta_tags_and_report(server: ReplicaServer, client: Client) -> None:
    entry = report(server, "000")
    status, headers, body = client.get(entry["url"])
    page = body.decode()
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert meta(page, "ArticleTitle") == entry["title"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", meta(page, "PubDate"))
    assert meta(page, "ColumnName") == "政府信息公开年报"
    assert meta(page, "SiteName") == "晋城市城区人民政府"
    assert meta(page, "ContentSource") == entry["issuer"]
    assert f"发布日期：{entry['published'][:10]}" in page
    assert "本年新收政府信息公开申请数量" in page


def test_attachment_page_links_its_docx(server: ReplicaServer, client: Client) -> None:
    entry = report(server, "003")
    _, _, page = client.get(entry["page_url"])
    href = re.search(r'附件：<a href="([^"]+)"', page.decode()).group(1)
    assert href.startswith("./P0") and urljoin(entry["page_url"], href) == entry["url"]
    status, headers, body = client.get(entry["url"])
    assert status == 200 and body[:2] == b"PK"
    assert headers["Content-Type"].endswith("wordprocessingml.document")


def test_js_list_page_has_no_links_but_its_api_does(server: ReplicaServer, client: Client) -> None:
    portal = next(p for p in server.manifest()["portals"] if p["id"] == "jiyuan")
    _, _, page = client.get(portal["column"])
    assert not re.search(rb'href="[^"]*t\d+\.html"', page) and b"/api/column/" in page
    urls = []
    for api in portal["list_urls"][1:]:
        status, headers, body = client.get(api)
        assert status == 200 and headers["Content-Type"].startswith("application/json")
        urls += [item["url"] for item in json.loads(body)["items"]]
    assert report(server, "001")["page_url"].removeprefix("http://jiyuan.gov.cn") in urls
    # the alias host and https serve the same column
    assert client.get("https://www.jiyuan.gov.cn/zwgk/zfxxgk/zfxxgknb/")[2] == page


def test_hanweb_dataproxy_returns_records(server: ReplicaServer, client: Client) -> None:
    _, _, column = client.get(SFT + "/col/col12345/index.html")
    assert b'src="/module/web/jpage/jpage.js"' in column and b"columnid: 12345" in column
    form = b"col=1&appid=1&webid=61&path=/&columnid=12345&unitid=37856&permissiontype=0"
    url = SFT + "/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15"
    status, _, xml = client.get(url, data=form)
    assert status == 200
    text = xml.decode()
    records = re.findall(r"<record><!\[CDATA\[(.*?)\]\]></record>", text)
    assert int(re.search(r"<totalrecord>(\d+)</totalrecord>", text).group(1)) == len(records) == 7
    page_url = report(server, "004")["page_url"]
    assert any(page_url.removeprefix(SFT) in r for r in records)
    other = client.get(url, data=form.replace(b"12345", b"999"))[2].decode()
    assert "<totalrecord>0</totalrecord>" in other


def test_gkmlpt_api_over_https_after_jiasule(server: ReplicaServer, client: Client) -> None:
    status, headers, body = client.get(GKMLPT + "/xxgk/xxgknb/qwgbm/")
    assert status == 521 and headers["X-Via-JSL"]
    uid = set_cookies(headers)["__jsluid_s"]
    assert b"_clearance_s=" in body and b"location.href=location.pathname" in body
    clearance = f"{int(time.time())}|0|{answer(uid)}"
    cookies = cookie_header({"__jsluid_s": uid, "__jsl_clearance_s": clearance})
    status, _, page = client.get(GKMLPT + "/xxgk/xxgknb/qwgbm/", cookies)
    assert status == 200
    sid = re.search(rb'"SID": "(\d+)"', page).group(1).decode()
    status, _, data = client.get(GKMLPT + f"/gkmlpt/api/all/3471?page=1&sid={sid}", cookies)
    articles = json.loads(data)["articles"]
    assert status == 200 and len(articles) == 5
    assert client.get(GKMLPT + f"/gkmlpt/api/all/3471?page=2&sid={sid}", cookies)[0] == 404
    _, _, detail = client.get(articles[0]["url"], cookies)
    assert b"window._CONFIG.DETAIL" in detail
    # the https-only portal sends http visitors to https
    status, headers, _ = client.get("http://www.lg.gov.cn/xxgk/")
    assert (status, headers["Location"]) == (301, GKMLPT + "/xxgk/")


# ------------------------------------------------------------------------ HTTP semantics


def test_conditional_requests_get_304(client: Client) -> None:
    url = JCCQ_COLUMN + "index_1.html"
    _, headers, body = client.get(url)
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert int(headers["Content-Length"]) == len(body)
    status, headers304, empty = client.get(url, {"If-None-Match": etag})
    assert (status, empty, headers304["ETag"]) == (304, b"", etag)
    assert client.get(url, {"If-Modified-Since": modified})[0] == 304
    assert client.get(url, {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})[0] == 200
    assert client.get(url, {"If-None-Match": '"other"', "If-Modified-Since": modified})[0] == 200
    status, headers, empty = client.get(url, method="HEAD")
    assert (status, empty, int(headers["Content-Length"])) == (200, b"", len(body))


def test_revision_changes_content_not_url(fresh_server: ReplicaServer) -> None:
    client = Client(fresh_server)
    before = report(fresh_server, "000")
    _, headers, old = client.get(before["url"])
    _, _, listing = client.get(JCCQ_COLUMN)
    assert b"98765" not in old
    fresh_server.revise("000", "requests.new.total", 98765)
    assert report(fresh_server, "000") == before
    status, new_headers, new = client.get(before["url"], {"If-None-Match": headers["ETag"]})
    assert status == 200 and b"98765" in new
    assert new_headers["ETag"] != headers["ETag"]
    assert new_headers["Last-Modified"] != headers["Last-Modified"]
    assert client.get(JCCQ_COLUMN)[2] == listing
    with pytest.raises(KeyError):
        fresh_server.revise("000", "no.such.metric", 1)


def test_revision_of_an_attachment(fresh_server: ReplicaServer) -> None:
    client = Client(fresh_server)
    entry = report(fresh_server, "003")
    _, headers, _ = client.get(entry["url"])
    fresh_server.revise("003", "requests.new.natural", 4321)
    _, new_headers, body = client.get(entry["url"])
    assert new_headers["ETag"] != headers["ETag"]
    cells = {c.text for t in Document(io.BytesIO(body)).tables for r in t.rows for c in r.cells}
    assert "4321" in cells


# ------------------------------------------------------------------------ GBK and challenges


def test_ruishu_412_until_the_scripts_cookie(client: Client) -> None:
    url = QUWO + "/zfxxgk/xxgkzl/zfxxgknb/"
    status, _, body = client.get(url)
    assert status == 412 and b"location.reload()" in body
    cookies = ruishu_cookies(client, url)
    assert client.get(url, cookie_header(cookies))[0] == 200
    wrong = {**cookies, next(k for k in cookies if k.endswith("T")): "0" * 16}
    assert client.get(url, cookie_header(wrong))[0] == 412
    assert client.get(QUWO + "/robots.txt")[0] == 412


def test_gbk_page_declares_no_charset(client: Client) -> None:
    url = QUWO + "/zfxxgk/xxgkzl/zfxxgknb/"
    cookies = cookie_header(ruishu_cookies(client, url))
    for page_url in (url, url + "?page=2", QUWO + "/"):
        status, headers, body = client.get(page_url, cookies)
        assert status == 200 and headers["Content-Type"] == "text/html"
        assert b"charset" not in body.lower()
        assert "政府信息公开" in body.decode("gb18030")
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
    _, _, first = client.get(url + "?page=1", cookies)
    assert "下一页" in first.decode("gb18030")


def test_wzws_redirects_to_a_challenge_page(client: Client) -> None:
    url = HANWEB + "/col/col1229425785/index.html"
    status, headers, _ = client.get(url)
    location = headers["Location"]
    assert status == 302 and location.startswith("/WZWSREL")
    status, _, page = client.get(HANWEB + location)
    nonce = re.search(rb'var c="([0-9a-f]{16})"', page).group(1).decode()
    assert status == 200 and b"location.replace(\"/col/col1229425785/index.html\")" in page
    status, _, column = client.get(url, cookie_header({"wzws_cid": nonce + answer(nonce)}))
    assert status == 200 and "政府信息公开年报" in column.decode()


# ------------------------------------------------------------------------ bad links and traps


def test_bad_links(server: ReplicaServer, client: Client) -> None:
    bad = {b["kind"]: b for b in server.manifest()["bad_links"] if b["portal"] == "jccq"}
    assert set(bad) == {"dead", "soft404", "offsite", "loopback", "metadata"}
    assert client.get(bad["dead"]["url"])[0] == 404
    status, _, page = client.get(bad["soft404"]["url"])
    assert status == 200 and "您访问的页面不存在" in page.decode()
    assert client.get(bad["offsite"]["url"])[0] == 502
    _, _, listing = client.get(JCCQ_COLUMN + "index_1.html")
    for kind in ("loopback", "metadata"):
        assert bad[kind]["url"].encode() in listing


def test_sifangtai_is_discoverable_from_its_homepage(client: Client) -> None:
    _, _, home = client.get(SFT + "/")
    gateway = re.search(r'<a href="([^"]+)">政府信息公开</a>', home.decode()).group(1)
    _, _, page = client.get(urljoin(SFT, gateway))
    column = re.search(r'<a href="([^"]+)">政府信息公开年报</a>', page.decode()).group(1)
    _, _, listing = client.get(urljoin(SFT, column))
    assert meta(listing.decode(), "ColumnName") == "政府信息公开年报"
    assert "<title>政府信息公开年报_" in listing.decode()


def test_sifangtai_traps(client: Client) -> None:
    _, _, home = client.get(SFT + "/")
    calendar = re.search(r'href="(/calendar\?date=[\d-]+)"', home.decode()).group(1)
    seen = set()
    url = SFT + calendar
    for _ in range(3):
        _, _, page = client.get(url)
        nxt = re.search(r'href="(/calendar\?date=[\d-]+)">后一天', page.decode()).group(1)
        seen.add(nxt)
        url = SFT + nxt
    assert len(seen) == 3
    sessions = {
        re.search(r'href="(/hdjl/index\.jsp;jsessionid=\w+)"', client.get(SFT + "/")[2].decode())
        .group(1)
        for _ in range(2)
    }
    assert len(sessions) == 2
    for link in sessions:
        assert client.get(SFT + link)[0] == 200


def test_slow_host_delays_every_answer(tmp_path: Path) -> None:
    with ReplicaServer(cache_dir=tmp_path, prerender=False, delays={"sifangtai": 0.4}) as slow:
        started = time.monotonic()
        assert Client(slow).get(SFT + "/robots.txt")[0] == 200
        assert time.monotonic() - started >= 0.4
    default = ReplicaServer(cache_dir=tmp_path, prerender=False).manifest()  # not started
    assert {p["id"]: p["delay_seconds"] for p in default["portals"]}["sifangtai"] == 1.5


# ------------------------------------------------------------------------ manifest


def test_manifest_matches_what_is_served(server: ReplicaServer, client: Client) -> None:
    manifest = server.manifest()
    assert {r["seed_id"][:3] for r in manifest["reports"]} == {"000", "001", "002", "003", "004"}
    assert {(r["seed_id"][:3], r["kind"]) for r in manifest["reports"]} == {
        ("000", "html"), ("001", "pdf"), ("002", "doc"), ("003", "docx"), ("004", "html"),
    }
    assert {c["kind"]: c["status"] for c in manifest["challenges"]} == {
        "ruishu": 412, "jiasule": 521, "wzws": 302,
    }
    quwo = cookie_header(ruishu_cookies(client, QUWO + "/"))
    for entry in manifest["reports"]:
        headers = quwo if entry["portal"] == "quwo" else {}
        _, _, page = client.get(entry["page_url"], headers)
        assert entry["title"] in page.decode("gb18030" if entry["portal"] == "quwo" else "utf-8")
    for entry in manifest["lookalikes"]:
        if entry["portal"] in ("jccq", "jiyuan", "sifangtai"):
            status, _, page = client.get(entry["url"])
            assert status == 200 and meta(page.decode(), "ArticleTitle") == entry["title"]
            assert not entry["title"].endswith("政府信息公开工作年度报告")


@pytest.mark.slow
def test_pdf_and_doc_attachments_are_rendered(server: ReplicaServer, client: Client) -> None:
    require_tool("soffice", "LibreOffice renders the PDF and DOC attachments")
    pdf = report(server, "001")
    status, headers, body = client.get(pdf["url"])
    assert status == 200 and body.startswith(b"%PDF")
    assert headers["Content-Type"] == "application/pdf"
    doc = report(server, "002")
    cookies = cookie_header(ruishu_cookies(client, doc["url"]))
    status, headers, body = client.get(doc["url"], cookies)
    assert status == 200 and body.startswith(bytes.fromhex("d0cf11e0a1b11ae1"))
    assert headers["Content-Type"] == "application/msword"


# ------------------------------------------------------------------------ browser


@pytest.fixture(scope="module")
def browser(server: ReplicaServer) -> Iterator:
    chromium = require_tool("chromium", "the browser tests drive Debian's Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
            proxy={"server": server.proxy_url},
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser) -> Iterator:
    context = browser.new_context(ignore_https_errors=True)
    yield context.new_page()
    context.close()


def visible_links(page, url: str, selector: str) -> list[str]:
    page.goto(url, timeout=15_000)
    page.wait_for_selector(selector, timeout=15_000)
    return page.eval_on_selector_all(selector, "els => els.map(e => e.href)")


def test_browser_sees_the_js_list(server: ReplicaServer, page) -> None:
    portal = next(p for p in server.manifest()["portals"] if p["id"] == "jiyuan")
    links = visible_links(page, portal["column"], "#list a")
    assert report(server, "001")["page_url"] in links
    links2 = visible_links(page, portal["column"] + "?page=2", "#list a")
    assert len(links) + len(links2) == 7 and not set(links) & set(links2)


def test_browser_passes_ruishu(server: ReplicaServer, page) -> None:
    entry = report(server, "002")
    server.clear_log()
    page.goto(entry["page_url"], timeout=15_000)
    page.wait_for_selector("h1.article-title", timeout=15_000)
    assert page.inner_text("h1.article-title") == entry["title"]
    assert page.get_attribute("#zoom a", "href").endswith(".doc")
    names = {c["name"] for c in page.context.cookies()}
    assert {"FSSBBIl1UgzbN7N80S", "FSSBBIl1UgzbN7N80T"} <= names
    statuses = [e.status for e in server.log("www.quwo.gov.cn") if e.target != "/favicon.ico"]
    assert statuses[:2] == [412, 200]
    assert {e.client for e in server.log("www.quwo.gov.cn")} == {"browser"}


@pytest.mark.parametrize(
    ("url", "selector", "count"),
    [
        (SFT + "/col/col12345/index.html", "ul.list a", 7),  # hanweb jpage
        (HANWEB + "/col/col1229425785/index.html", "ul.list a", 5),  # hanweb behind wzws
        (GKMLPT + "/xxgk/xxgknb/qwgbm/#3471", "#gkml-list a", 5),  # gkmlpt behind 加速乐, https
    ],
)
def test_browser_draws_script_lists(page, url: str, selector: str, count: int) -> None:
    assert len(visible_links(page, url, selector)) == count
