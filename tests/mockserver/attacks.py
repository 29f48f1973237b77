"""A small hostile portal for the security tests: pages, redirects and slow answers a test
sets up, on any loopback address, and a log of every request it received (so a test can assert
that an internal address was never contacted)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tests.mockserver.server import ReplicaHTTPServer


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0  # seconds before the answer (a slow receiver)


@dataclass
class AttackPortal:
    """``routes`` maps a path (query included, when given) to an answer; 404 otherwise."""

    host: str = "127.0.0.1"
    port: int = 0
    routes: dict[str, Answer] = field(default_factory=dict)
    hits: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, Host)
    bodies: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: ReplicaHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def page(self, path: str, html: str, **kw) -> None:
        self.routes[path] = Answer(body=html.encode("utf-8"), **kw)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = Answer(status=status, headers=(("Location", location),))

    def paths(self) -> list[str]:
        with self._lock:
            return [path for _, path, _ in self.hits]

    def __enter__(self) -> AttackPortal:
        portal = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with portal._lock:
                    portal.hits.append((self.command, self.path, self.headers.get("Host", "")))
                    portal.bodies.append(body)
                # As a proxy too: an absolute target is answered from the same routes.
                target = self.path
                if target.startswith(("http://", "https://")):
                    parts = urlsplit(target)
                    target = parts.path + (f"?{parts.query}" if parts.query else "")
                answer = (portal.routes.get(target)
                          or portal.routes.get(target.split("?", 1)[0]))
                if self.command == "CONNECT":
                    answer = Answer(403, b"no tunnels", "text/plain")
                if answer is None:
                    answer = Answer(404, b"not found", "text/plain")
                if answer.delay:
                    time.sleep(answer.delay)
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)

            do_GET = do_POST = do_HEAD = do_CONNECT = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        server_class = ReplicaHTTPServer
        if ":" in self.host:
            import socket

            class V6(ReplicaHTTPServer):
                address_family = socket.AF_INET6

            server_class = V6
        self._server = server_class((self.host, self.port), Handler)
        self._server.handle_error = lambda *args: None  # a client that hung up
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
