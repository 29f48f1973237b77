"""Server-side request forgery: one address guard, per site, on every path that fetches.

Each test crawls (or fetches) a loopback portal the test starts; the site entry allows
127.0.0.1 only, so any other non-public address a page points at must be refused and recorded
as ``forbidden-address`` — and never contacted.
"""

from __future__ import annotations

import ipaddress
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nianbao.crawler.addresses import address_problem, forbidden_address
from tests.conftest import ROOT, require_tool
from tests.mockserver.attacks import Answer, AttackPortal

NIANBAO = [sys.executable, "-m", "nianbao.commands.cli"]
TITLE = "某县2023年政府信息公开工作年度报告"


@pytest.mark.parametrize("address", [
    "100.64.0.1", "100.100.100.200",  # carrier-grade NAT; Alibaba Cloud metadata
    "192.0.0.8", "192.0.0.170",  # IETF protocol assignments
    "2002:7f00:1::", "2002:a9fe:a9fe::",  # 6to4 of loopback and of link-local
    "::ffff:127.0.0.1", "::ffff:a9fe:a9fe",  # IPv4-mapped
    "64:ff9b::7f00:1", "64:ff9b:1::a00:1",  # NAT64 of loopback, local-use NAT64
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo (client 127.0.0.1)
    "::1", "::", "0.0.0.0", "127.8.9.1", "10.1.2.3", "172.16.0.1", "192.168.1.1",
    "169.254.169.254", "fe80::1", "fd00::1", "224.0.0.1", "ff02::1", "255.255.255.255",
    "198.18.0.1", "240.0.0.1",
])
def test_non_public_addresses_in_every_spelling_are_refused(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)), address
    host = f"[{address}]" if ":" in address else address
    assert "non-public" in forbidden_address(f"http://{host}/latest/meta-data/")


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "2002:808:808::",
                                     "64:ff9b::808:808", "::ffff:8.8.8.8"])
def test_public_unicast_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None


def test_a_site_allowance_is_per_host_or_per_address() -> None:
    assert forbidden_address("http://127.0.0.1:9/", allowed={"127.0.0.1"}) is None
    assert forbidden_address("http://127.0.0.2:9/", allowed={"127.0.0.1"})
    assert forbidden_address("http://localhost:9/", allowed={"localhost"}) is None


def column(*links: tuple[str, str]) -> str:
    items = "".join(f'<li><a href="{href}">{text}</a><span>2024-03-01</span></li>'
                    for href, text in links)
    return (f"<html><head><meta charset='utf-8'><title>政府信息公开年度报告</title></head>"
            f"<body><ul class='list'>{items}</ul></body></html>")


def write_site(path: Path, portal: AttackPortal, **extra) -> Path:
    entry = {"id": "hostile", "name": "某县人民政府", "domains": ["127.0.0.1"],
             "columns": [{"url": f"{portal.url}/col/"}], "render": "never",
             "allow_private": ["127.0.0.1"], "politeness": {"delay_seconds": 0}, **extra}
    path.write_text(yaml.safe_dump({"sites": [entry]}, allow_unicode=True), encoding="utf-8")
    return path


def run_crawl(tmp_path: Path, sites: Path, *extra: str, env: dict | None = None,
              code: str | None = None) -> tuple[subprocess.CompletedProcess, sqlite3.Connection]:
    db = tmp_path / "nianbao.sqlite"
    args = ["crawl", "--sites", str(sites), "--db", f"sqlite:///{db}",
            "--archive", str(tmp_path / "archive"), *extra]
    command = [*NIANBAO, *args] if code is None else [sys.executable, "-c", code, *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**os.environ, **(env or {})})
    print(done.stdout, done.stderr[-4000:], sep="\n")
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    return done, connection


def failures(db: sqlite3.Connection) -> list[dict]:
    return [dict(r) for r in db.execute("SELECT url, reason, detail FROM fetch_failures")]


def test_crawl_refuses_new_ranges_directly_and_after_a_redirect(tmp_path: Path) -> None:
    with AttackPortal() as portal:
        portal.page("/col/", column(
            ("http://100.100.100.200/latest/meta-data/", TITLE),
            (f"{portal.url}/hop.html", TITLE + "（修订）"),
            ("http://[2002:7f00:1::]/admin/", TITLE + "（二）"),
            ("http://192.0.0.8/", TITLE + "（三）"),
        ))
        portal.redirect("/hop.html", "http://100.100.100.200/latest/user-data")
        portal.page("/robots.txt", "User-agent: *\nDisallow: /private/\n",
                    content_type="text/plain")
        done, db = run_crawl(tmp_path, write_site(tmp_path / "sites.yaml", portal))
    assert done.returncode == 0, done.stderr[-3000:]
    refused = {f["url"]: f for f in failures(db) if f["reason"] == "forbidden-address"}
    assert {"http://100.100.100.200/latest/meta-data/", "http://[2002:7f00:1::]/admin/",
            "http://192.0.0.8/", "http://100.100.100.200/latest/user-data"} <= refused.keys(), (
        failures(db))
    assert "/hop.html" in portal.paths()  # the redirect hop was refused, not its first step
    # The site's own allowance reached robots.txt too: it was fetched, not refused.
    assert "/robots.txt" in portal.paths()
    assert not [f for f in failures(db) if f["url"].endswith("/robots.txt")]


def test_a_robots_txt_that_cannot_be_fetched_is_recorded_with_its_reason(tmp_path: Path) -> None:
    with AttackPortal() as portal:
        portal.page("/col/", column((f"{portal.url}/r.html", TITLE)))
        portal.redirect("/robots.txt", "http://100.100.100.200/robots.txt")
        done, db = run_crawl(tmp_path, write_site(tmp_path / "sites.yaml", portal))
    assert done.returncode == 0, done.stderr[-3000:]
    robots = [f for f in failures(db) if f["url"].endswith("/robots.txt")]
    assert robots and robots[0]["reason"] == "forbidden-address", failures(db)
    assert "robots.txt could not be fetched" in robots[0]["detail"]


def rendered_site(tmp_path: Path, portal: AttackPortal) -> Path:
    return write_site(tmp_path / "sites.yaml", portal, render="always")


def test_chromium_requests_redirect_hops_and_websockets_pass_the_sites_guard(
        tmp_path: Path) -> None:
    """In a real Chromium: the site's allowance lets its own loopback pages render; a detail
    link that redirects to an internal address, a script's fetch() through a 302, an iframe
    and a WebSocket never reach the internal server, and nothing of it is archived."""
    require_tool("chromium", "the browser path is tested in a real browser")
    with AttackPortal() as portal, AttackPortal("127.0.0.2", portal.port) as internal:
        inside = internal.url
        portal.page("/col/", column((f"{portal.url}/detail.html", TITLE)).replace(
            "</body>", "<script>fetch('/bounce').catch(() => 0);"
            f"try {{ new WebSocket('ws://127.0.0.1:{portal.port}/ws'); }} catch (e) {{}}"
            f"try {{ new WebSocket('ws://127.0.0.2:{portal.port}/ws'); }} catch (e) {{}}"
            "var f = document.createElement('iframe');"
            f"f.src = '{inside}/frame'; document.body.appendChild(f);</script></body>"))
        portal.redirect("/bounce", f"{inside}/fetched")
        portal.redirect("/detail.html", f"{inside}/secret.html")
        internal.page("/secret.html", f"<html><body><h1>{TITLE}</h1>SECRET-METADATA</body></html>")
        done, db = run_crawl(tmp_path, rendered_site(tmp_path, portal))
    assert done.returncode == 0, done.stderr[-3000:]
    assert {"/col/", "/detail.html", "/bounce"} <= set(portal.paths()), portal.paths()
    assert "/ws" not in portal.paths()
    assert internal.hits == []
    detail = [f for f in failures(db) if f["url"] == f"{portal.url}/detail.html"]
    assert detail and detail[0]["reason"] == "forbidden-address", failures(db)
    assert "127.0.0.2" in detail[0]["detail"]
    assert not list(db.execute("SELECT id FROM versions"))
    for warc in (tmp_path / "archive").rglob("*.warc*"):
        assert b"SECRET-METADATA" not in warc.read_bytes()


def test_chromium_sends_nothing_of_its_own_even_through_a_proxy(tmp_path: Path) -> None:
    """Through ``--proxy`` (the portal answers as the proxy too), every request that reaches
    the proxy is one of the page's, for the site's own host: no update, account or safe
    browsing traffic, and loopback is not left out of the proxy."""
    require_tool("chromium", "the browser path is tested in a real browser")
    with AttackPortal() as portal:
        portal.page("/col/", column((f"{portal.url}/detail.html", TITLE)))
        portal.page("/detail.html", f"<html><body><h1>{TITLE}</h1></body></html>")
        done, _ = run_crawl(tmp_path, rendered_site(tmp_path, portal), "--proxy", portal.url)
        hits = list(portal.hits)
    assert done.returncode == 0, done.stderr[-3000:]
    assert any(path == f"{portal.url}/col/" for _, path, _ in hits), hits  # proxied
    assert {host for _, _, host in hits} == {f"127.0.0.1:{portal.port}"}, hits


# -- nianbao parse URL: one guarded, pinned fetch path, robots.txt read by Protego ------------

SEED = next((ROOT / "tests" / "fixtures" / "seeds").glob("003_*.txt"))


def parse_url(url: str, *extra: str, env: dict | None = None,
              code: str | None = None) -> subprocess.CompletedProcess:
    command = ([*NIANBAO] if code is None else [sys.executable, "-c", code])
    return subprocess.run([*command, "parse", url, *extra], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={**os.environ, **(env or {})})


def report_portal(portal: AttackPortal) -> str:
    portal.routes["/nb/t20240112_1.shtml"] = Answer(body=SEED.read_bytes(),
                                                    content_type="text/plain; charset=utf-8")
    return f"{portal.url}/nb/t20240112_1.shtml"


def test_parse_url_robots_txt_redirect_is_guarded(tmp_path: Path) -> None:
    with AttackPortal() as portal, AttackPortal("127.0.0.2", portal.port) as internal:
        url = report_portal(portal)
        portal.redirect("/robots.txt", f"{internal.url}/robots.txt")
        done = parse_url(url, "--json", "--allow-host", "127.0.0.1")
    assert internal.hits == []
    assert done.returncode == 0, done.stderr  # no robots.txt read: no rule applies
    assert "/robots.txt" in portal.paths()


def test_parse_url_robots_txt_is_read_as_scrapy_reads_it() -> None:
    """Wildcards and longest-match rules (RFC 9309) that the standard library ignores."""
    with AttackPortal() as portal:
        url = report_portal(portal)
        portal.page("/robots.txt", "User-agent: *\nDisallow: /*.shtml$\n",
                    content_type="text/plain")
        done = parse_url(url, "--allow-host", "127.0.0.1")
        paths = portal.paths()
    assert done.returncode == 2 and "robots.txt" in done.stderr, done.stderr
    assert "/nb/t20240112_1.shtml" not in paths


# -- DNS rebinding: the connection goes to the address that was checked -----------------------

REBIND_NAME = "rebind.nianbao.test"


def rebinding(port: int) -> dict:
    """The name answers 127.0.0.1 (allowed) once, then 127.0.0.2 (internal)."""
    return {"NIANBAO_TEST_REBIND": f"{REBIND_NAME}=127.0.0.1,127.0.0.2",
            "PYTHONPATH": str(ROOT)}


def test_parse_url_connects_to_the_checked_address() -> None:
    from tests.mockserver.rebinding import RUN

    with AttackPortal() as portal, AttackPortal("127.0.0.2", portal.port) as internal:
        report_portal(portal)
        url = f"http://{REBIND_NAME}:{portal.port}/nb/t20240112_1.shtml"
        done = parse_url(url, "--json", "--allow-host", "127.0.0.1",
                         env=rebinding(portal.port), code=RUN)
    print(done.stderr)
    assert internal.hits == []
    # The robots.txt check was the first lookup (pinned, fetched from 127.0.0.1); the
    # document's own lookup answered 127.0.0.2 and was refused.
    assert ("GET", "/robots.txt", f"{REBIND_NAME}:{portal.port}") in portal.hits
    assert done.returncode == 2 and "non-public address (127.0.0.2" in done.stderr


def test_crawl_connects_to_the_checked_address(tmp_path: Path) -> None:
    from tests.mockserver.rebinding import RUN

    with AttackPortal() as portal, AttackPortal("127.0.0.2", portal.port) as internal:
        portal.page("/col/", column((f"http://{REBIND_NAME}:{portal.port}/d.html", TITLE)))
        sites = write_site(tmp_path / "sites.yaml", portal, domains=[REBIND_NAME],
                           columns=[{"url": f"http://{REBIND_NAME}:{portal.port}/col/"}])
        done, db = run_crawl(tmp_path, sites, env=rebinding(portal.port), code=RUN)
    assert done.returncode == 0, done.stderr[-3000:]
    assert internal.hits == []
    assert ("GET", "/col/", f"{REBIND_NAME}:{portal.port}") in portal.hits
    assert any(f["reason"] == "forbidden-address" and "127.0.0.2" in f["detail"]
               for f in failures(db)), failures(db)


def test_chromium_connects_to_the_checked_address(tmp_path: Path) -> None:
    """Chromium resolves names itself: the guard's lookup says 127.0.0.1 (allowed), the
    browser's own would say 127.0.0.2. Through the local pinning proxy the browser never
    resolves: its request goes to the checked address, and 127.0.0.2 receives no request."""
    require_tool("chromium", "the browser path is tested in a real browser")
    from tests.mockserver.rebinding import RUN

    with AttackPortal() as portal, AttackPortal("127.0.0.2", portal.port) as internal:
        listing = column((f"http://{REBIND_NAME}:{portal.port}/d.html", TITLE))
        portal.page("/col/", listing)
        internal.page("/col/", listing.replace("</body>", "SECRET-METADATA</body>"))
        sites = write_site(tmp_path / "sites.yaml", portal, domains=[REBIND_NAME],
                           render="always",
                           columns=[{"url": f"http://{REBIND_NAME}:{portal.port}/col/"}])
        env = {**rebinding(portal.port),
               "NIANBAO_TEST_REBIND": f"{REBIND_NAME}=127.0.0.1,127.0.0.1",
               "NIANBAO_TEST_CHROMIUM_ANSWER": "127.0.0.2"}
        done, db = run_crawl(tmp_path, sites, env=env, code=RUN)
    assert done.returncode == 0, done.stderr[-3000:]
    assert internal.hits == []  # not one request from Chromium reached the second answer
    assert ("GET", "/col/", f"{REBIND_NAME}:{portal.port}") in portal.hits
    assert "/d.html" in portal.paths()  # the rendered listing was read and followed
    assert not [f for f in failures(db) if f["url"].endswith("/col/")], failures(db)
    for warc in (tmp_path / "archive").rglob("*.warc*"):
        assert b"SECRET-METADATA" not in warc.read_bytes()


def test_the_browser_proxy_connects_only_to_pinned_addresses(monkeypatch) -> None:
    """The pinning proxy never resolves: a name the guard passed is connected at the address
    the guard checked even after DNS answers another; a name it never passed gets a 403 and
    no connection, over CONNECT and over plain HTTP alike."""
    import socket

    from nianbao.crawler.addresses import check_host
    from nianbao.crawler.browser_proxy import PinningProxy
    from tests.mockserver import rebinding

    name, never = "pinned.nianbao.test", "never-checked.nianbao.test"
    with AttackPortal() as portal, AttackPortal("127.0.0.2", portal.port) as internal:
        portal.page("/p", "<html>checked</html>")
        internal.page("/p", "<html>SECRET</html>")
        monkeypatch.setattr(socket, "getaddrinfo", socket.getaddrinfo)
        monkeypatch.setattr(socket, "gethostbyname", socket.gethostbyname)
        monkeypatch.setenv("NIANBAO_TEST_REBIND", f"{name}=127.0.0.1,127.0.0.2")
        rebinding.install()
        assert check_host(name, portal.port, {"127.0.0.1"}) == (None, ("127.0.0.1",))
        assert socket.getaddrinfo(name, portal.port)[0][4][0] == "127.0.0.2"  # rebound
        proxy = PinningProxy(connect_timeout=5, idle_timeout=5)
        address = proxy.start().removeprefix("http://").split(":")
        try:
            def ask(head: str) -> bytes:
                with socket.create_connection((address[0], int(address[1])), 5) as conn:
                    conn.sendall(head.encode())
                    answer = b""
                    while chunk := conn.recv(65536):
                        answer += chunk
                    return answer

            plain = ask(f"GET http://{name}:{portal.port}/p HTTP/1.1\r\n"
                        f"Host: {name}:{portal.port}\r\n\r\n")
            refused = ask(f"GET http://{never}:{portal.port}/p HTTP/1.1\r\n"
                          f"Host: {never}:{portal.port}\r\n\r\n")
            tunnel = ask(f"CONNECT {never}:443 HTTP/1.1\r\nHost: {never}:443\r\n\r\n")
            through = ask(f"CONNECT {name}:{portal.port} HTTP/1.1\r\n\r\n"
                          f"GET /p HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n")
        finally:
            proxy.close()
    assert plain.startswith(b"HTTP/1.1 200") and b"checked" in plain, plain
    assert refused.startswith(b"HTTP/1.1 403") and tunnel.startswith(b"HTTP/1.1 403")
    assert through.startswith(b"HTTP/1.1 200 Connection established") and b"checked" in through
    assert portal.hits == [("GET", "/p", f"{name}:{portal.port}"), ("GET", "/p", name)]
    assert internal.hits == []
    assert proxy.refused == 2


def test_parse_url_is_judged_by_its_sites_entry(tmp_path: Path) -> None:
    """The same per-site decision as the crawl: a URL in a site's domains may use the
    addresses that site's ``allow_private`` lists, and no other."""
    with AttackPortal() as portal:
        url = report_portal(portal)
        sites = write_site(tmp_path / "sites.yaml", portal)
        allowed = parse_url(url, "--json", "--sites", str(sites))
        other = write_site(tmp_path / "other.yaml", portal, domains=["www.other.gov.cn"],
                           columns=["http://www.other.gov.cn/col/"])
        refused = parse_url(url, "--json", "--sites", str(other))
    assert allowed.returncode == 0, allowed.stderr
    assert '"report_year"' in allowed.stdout
    assert refused.returncode == 2 and "non-public address" in refused.stderr
