"""``nianbao parse URL`` over real HTTP from a local server the test starts."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import pytest

from tests.conftest import FIXTURES
from tests.mockserver.server import ReplicaHTTPServer

SEED = next((FIXTURES / "seeds").glob("003_*.txt"))


class _Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str]]] = []
    robots = b"User-agent: *\nDisallow: /private/\n"

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("User-Agent", "")))
        if self.path == "/robots.txt":
            body, ctype, status = self.robots, "text/plain", 200
        elif self.path.endswith("t20240112_1.shtml") or self.path.startswith("/private/"):
            body = SEED.read_text(encoding="utf-8").encode("gb18030")
            ctype, status = "text/plain", 200
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()
            return
        else:
            body, ctype, status = b"not found", "text/plain", 404
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Last-Modified", "Fri, 12 Jan 2024 08:00:00 GMT")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def portal() -> Iterator[str]:
    _Handler.seen = []
    server = ReplicaHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nianbao.commands.cli", "parse", *args],
                          capture_output=True, text=True, timeout=60)


def test_url_is_fetched_once_politely_and_parsed(portal: str) -> None:
    url = f"{portal}/qzf/zfxxgknb/202401/t20240112_1.shtml"
    proc = _cli(url, "--json", "--allow-host", "127.0.0.1")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["issuer"] == "晋城市城区应急管理局" and record["metrics"]["review.total"] == 0
    sources = {d["source"] for d in record["date_evidence"]}
    assert {"url", "signature", "http:last-modified"} <= sources
    fetched = [p for p, _ in _Handler.seen if p.endswith(".shtml")]
    assert len(fetched) == 1
    assert all(ua.startswith("nianbao/") for _, ua in _Handler.seen)
    assert "/robots.txt" in [p for p, _ in _Handler.seen]


def test_private_address_refused_by_default(portal: str) -> None:
    proc = _cli(f"{portal}/qzf/202401/t20240112_1.shtml")
    assert proc.returncode == 2 and "non-public address" in proc.stderr
    assert _Handler.seen == []


def test_robots_txt_is_obeyed(portal: str) -> None:
    proc = _cli(f"{portal}/private/report.txt", "--allow-host", "127.0.0.1")
    assert proc.returncode == 2 and "robots.txt" in proc.stderr


def test_dead_link_is_reported(portal: str) -> None:
    proc = _cli(f"{portal}/gone.html", "--allow-host", "127.0.0.1")
    assert proc.returncode == 2 and "HTTP 404" in proc.stderr


def test_redirect_to_link_local_address_is_refused(portal: str) -> None:
    proc = _cli(f"{portal}/redirect", "--allow-host", "127.0.0.1")
    assert proc.returncode == 2 and "redirect to http://169.254.169.254" in proc.stderr
