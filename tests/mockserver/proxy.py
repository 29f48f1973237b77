"""The replica server: an HTTP forward proxy on 127.0.0.1 that serves the replica portals by
hostname, so that real site entries (real hostnames) can be crawled offline, unchanged.

Clients point their proxy at ``proxy_url`` (Scrapy ``request.meta["proxy"]`` or
``http_proxy``; Playwright ``launch(proxy={"server": ...})``) and it answers:

* absolute-form requests (``GET http://host/path HTTP/1.1``) for http;
* ``CONNECT host:443`` for https: it answers 200, ends TLS itself with a throw-away
  certificate (clients must not verify) and serves the requests inside the tunnel;
* origin-form requests with a Host header (direct mode, e.g. ``curl -H 'Host: …'``).

A host no replica serves gets 502 "replica: unknown host" (standing in for a DNS failure).
Every request is logged (``log()``), including ones to addresses a crawler must never fetch.
"""

from __future__ import annotations

import http.server
import ssl
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Mapping
from datetime import datetime
from email.utils import formatdate
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from tests.mockserver import manifest, tls
from tests.mockserver.documents import DocumentStore
from tests.mockserver.http import Request, Response, with_validators
from tests.mockserver.portals import PORTALS_FILE, full_seed_id, load_portals
from tests.mockserver.requestlog import LogEntry, RequestLog, client_kind
from tests.mockserver.server import ReplicaHTTPServer
from tests.mockserver.site import Site

DEFAULT_PORTS = {"http": 80, "https": 443}
REASONS = {521: "Web Server Is Down"}  # 加速乐's status is not in the IANA registry
UNKNOWN_HOST = b"replica: unknown host"
TUNNEL_OPEN = b"HTTP/1.1 200 Connection Established\r\n\r\n"


def normalise_host(netloc: str, scheme: str) -> str:
    """Lower-case host, with the port only when it is not the scheme's default."""
    host, _, port = netloc.strip().lower().rpartition(":")
    if not host or not port.isdigit():
        return netloc.strip().lower()
    return host if int(port) == DEFAULT_PORTS[scheme] else f"{host}:{port}"


class ReplicaHandler(http.server.BaseHTTPRequestHandler):
    """One client connection: proxy requests, a CONNECT tunnel, or direct requests."""

    protocol_version = "HTTP/1.1"
    timeout = 60  # idle keep-alive connections are closed after this
    server: _HTTPServer
    tunnel_host: str | None = None

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, TimeoutError):
            self.close_connection = True  # the client went away: nothing to answer

    def log_message(self, format: str, *args: object) -> None:
        """Silenced: the replica keeps its own log (``ReplicaServer.log``)."""

    def do_CONNECT(self) -> None:
        """Answer 200, then speak TLS as the server on the same socket (or 502 at once for a
        host no replica serves, as a proxy that cannot resolve it does)."""
        host = normalise_host(self.path, "https")
        request = Request("CONNECT", "https", host, "", self.headers)
        if not self.server.replica.serves(host):
            self.close_connection = True
            self.respond(request, Response(502, UNKNOWN_HOST, "text/plain; charset=utf-8"))
            return
        self.server.replica.record(request, Response(200), len(TUNNEL_OPEN))
        self.wfile.write(TUNNEL_OPEN)
        try:
            connection = self.server.tls.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        self.connection = connection
        self.rfile = connection.makefile("rb")
        self.wfile = connection.makefile("wb")
        self.tunnel_host = host
        self.close_connection = False

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, *self.destination(), self.headers, body)
        try:
            response = self.server.replica.answer(request)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            response = Response(500, b"replica: internal error", "text/plain")
        self.respond(request, response)

    do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = do_GET

    def destination(self) -> tuple[str, str, str]:
        """(scheme, host, path and query) of the current request, whichever form it took."""
        if self.path.startswith(("http://", "https://")):
            parts = urlsplit(self.path)
            scheme = "https" if self.tunnel_host else parts.scheme
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            return scheme, normalise_host(parts.netloc, scheme), target
        if self.tunnel_host:
            return "https", self.tunnel_host, self.path
        return "http", normalise_host(self.headers.get("Host", ""), "http"), self.path

    def respond(self, request: Request, response: Response) -> None:
        status = response.status
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = REASONS.get(status, "")
        lines = [
            f"HTTP/1.1 {status} {reason}",
            f"Date: {formatdate(usegmt=True)}",
            "Server: nianbao-replica",
        ]
        if response.content_type and status != 304:
            lines.append(f"Content-Type: {response.content_type}")
        if status != 304:
            lines.append(f"Content-Length: {len(response.body)}")
        lines += [f"{k}: {v}" for k, v in response.headers]
        lines.append("Connection: " + ("close" if self.close_connection else "keep-alive"))
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        body = b"" if request.method == "HEAD" or status == 304 else response.body
        # Logged before sending, so that a client that has its answer finds it in the log.
        self.server.replica.record(request, response, len(head) + len(body))
        self.wfile.write(head + body)
        self.wfile.flush()


class _HTTPServer(ReplicaHTTPServer):
    replica: ReplicaServer
    tls: ssl.SSLContext


class ReplicaServer:
    """The replica portals behind one local proxy; a context manager.

    ``delays`` overrides portals' response delays by portal id (tests set the slow portal to
    0); ``prerender`` renders the attachment files in the background at start so that the
    first crawl does not wait for LibreOffice; ``verbose`` prints one line per request.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        cache_dir: Path | None = None,
        portals_file: Path = PORTALS_FILE,
        delays: Mapping[str, float] | None = None,
        prerender: bool = True,
        verbose: bool = False,
    ) -> None:
        self.documents = DocumentStore(cache_dir)
        delays = delays or {}
        self.sites = [
            Site(portal, self.documents, delays.get(portal.id))
            for portal in load_portals(portals_file)
        ]
        self.by_host = {host: site for site in self.sites for host in site.hosts}
        self.port = port
        self.prerender = prerender
        self.verbose = verbose
        self._log = RequestLog()
        self._httpd: _HTTPServer | None = None
        self._rendered = threading.Event()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> ReplicaServer:
        httpd = _HTTPServer(("127.0.0.1", self.port), ReplicaHandler)
        httpd.replica = self
        httpd.tls = tls.server_context(self.by_host)
        self.port = httpd.server_address[1]
        self._httpd = httpd
        threading.Thread(target=httpd.serve_forever, name="replica-server", daemon=True).start()
        if self.prerender:
            threading.Thread(target=self._prerender, name="replica-prerender", daemon=True).start()
        else:
            self._rendered.set()
        return self

    def wait_ready(self, timeout: float = 600) -> bool:
        """Wait until every attachment is rendered: a real portal's files exist before anyone
        asks for them, and a LibreOffice render must not eat a crawler's download timeout."""
        return self._rendered.wait(timeout)

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _prerender(self) -> None:
        for site in self.sites:
            for item in site.portal.items:
                if item.seed_id and item.holder != "html":
                    try:
                        self.documents.file(item.seed_id, item.holder)
                    except Exception as exc:  # served as 500 when asked for; say why now
                        print(f"replica: cannot render {item.seed_id} as {item.holder}: {exc}",
                              file=sys.stderr)
        self._rendered.set()

    # ------------------------------------------------------------------ answering

    def serves(self, host: str) -> bool:
        return host in self.by_host

    def served_sites(self, sites: Iterable) -> list:
        """The site entries (``nianbao.sites.Site``) whose start URLs a replica answers."""
        return [site for site in sites
                if any(self.serves(urlsplit(url).hostname or "") for url in site.start_urls)]

    def answer(self, request: Request) -> Response:
        site = self.by_host.get(request.host)
        if site is None:
            if request.host in (f"127.0.0.1:{self.port}", f"localhost:{self.port}"):
                return self._index()
            return Response(502, UNKNOWN_HOST, "text/plain; charset=utf-8")
        return with_validators(request, site.handle(request))

    def _index(self) -> Response:
        """What the server itself answers in direct mode: its portals."""
        lines = [f"nianbao replica server; proxy {self.proxy_url}", ""]
        lines += [f"{s.portal.id}: {' '.join(s.hosts)}  {s.url('/')}" for s in self.sites]
        return Response(200, "\n".join(lines).encode() + b"\n", "text/plain; charset=utf-8")

    def record(self, request: Request, response: Response, size: int) -> None:
        entry = LogEntry(
            time=time.time(),
            client=client_kind(request.headers),
            method=request.method,
            scheme=request.scheme,
            host=request.host,
            target=request.target,
            status=response.status,
            bytes=size,
            headers=dict(request.headers.items()),
        )
        self._log.add(entry)
        if self.verbose:
            print(f"{entry.client:8} {entry.status} {entry.method} {entry.url} {size}B", flush=True)

    # ------------------------------------------------------------------ inspection and control

    def log(self, host: str | None = None) -> list[LogEntry]:
        """Requests answered so far (all, or those for ``host``), oldest first."""
        return self._log.entries(host)

    def bytes_served(self, host: str | None = None) -> int:
        return sum(e.bytes for e in self._log.entries(host))

    def clear_log(self) -> None:
        self._log.clear()

    def revise(self, seed_id: str, key: str, value: float | int | None) -> datetime:
        """Silently revise a published report: one gold metric changes in the document that
        holds it (new content, ETag and Last-Modified), its URL and list entry do not."""
        return self.documents.revise(full_seed_id(seed_id), key, value)

    def manifest(self) -> dict:
        """The answer key: portals, reports, attachments, look-alikes, bad links, challenges,
        traps (see ``tests.mockserver.manifest``)."""
        return manifest.build(self.sites)
