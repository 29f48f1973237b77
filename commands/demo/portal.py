"""The demo portal: the files under ``portal/`` served over HTTP on 127.0.0.1, at a free port.

It answers as a plain static portal does — a directory by its ``index.html``, a missing file
with 404, an ``ETag`` and a 304 for a matching ``If-None-Match``, a session cookie — so the
crawler meets the same HTTP it meets on a real portal. Nothing is generated at run time.
"""

from __future__ import annotations

import hashlib
import mimetypes
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

PORTAL_DIR = Path(__file__).resolve().parent / "portal"
CONTENT_TYPES = {".html": "text/html", ".shtml": "text/html", ".txt": "text/plain",
                 ".docx": "application/vnd.openxmlformats-officedocument."
                          "wordprocessingml.document"}


def content_type(path: Path) -> str:
    """HTML without a charset (the pages declare theirs, GBK included, as old portals do)."""
    return (CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
            or "application/octet-stream")


class _Handler(BaseHTTPRequestHandler):
    server_version = "nginx"
    sys_version = ""
    root: Path = PORTAL_DIR

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _file(self) -> Path | None:
        """The file the request's path names, never one outside the portal's folder."""
        relative = unquote(urlsplit(self.path).path).lstrip("/")
        target = (self.root / relative).resolve()
        if not target.is_relative_to(self.root):
            return None
        if target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None

    def _answer(self, body: bool) -> None:
        path = self._file()
        status = 200 if path else 404
        data = (path or self.root / "404.html").read_bytes()
        etag = f'"{hashlib.sha1(data).hexdigest()[:16]}"'
        if path and self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(status)
        self.send_header("Content-Type", content_type(path or self.root / "404.html"))
        self.send_header("Content-Length", str(len(data)))
        if path:
            self.send_header("ETag", etag)
        if "Cookie" not in self.headers:
            self.send_header("Set-Cookie", f"JSESSIONID={secrets.token_hex(8)}; Path=/; HttpOnly")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the crawl's own summary says what was fetched."""


class DemoPortal:
    """``with DemoPortal() as portal:`` serves the portal at ``portal.url`` until the block ends."""

    def __init__(self, root: Path = PORTAL_DIR, host: str = "127.0.0.1"):
        handler = type("Handler", (_Handler,), {"root": root.resolve()})
        self.server = ThreadingHTTPServer((host, 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="demo-portal",
                                       daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> DemoPortal:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
