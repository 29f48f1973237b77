"""A local forward proxy in front of Chromium that connects to the address the guard checked.

Chromium resolves names itself: a name that passed the address guard (``addresses.py``) could
answer an internal address to the browser's own lookup (DNS rebinding), and the browser would
send its request there. With this proxy as the pages' proxy, Chromium never resolves a page's
host: it asks the proxy (``CONNECT host:port`` for HTTPS, an absolute URI for HTTP), and the
proxy connects to the addresses the guard pinned when it judged that request with the site's
own allowance (the DevTools guard in ``browser_guard.py`` judges every request before it
leaves, as Scrapy's requests are judged before ``resolver.py`` answers from the same pins).
It never resolves a name: a host the guard did not pass gets a 403 and no connection.

Used when no upstream ``--proxy`` is configured (then the upstream proxy resolves, see
SECURITY.md). It runs in a thread with its own event loop, so it does not depend on the
crawl's reactor; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from urllib.parse import urlsplit

from nianbao.crawler.addresses import pinned

logger = logging.getLogger(__name__)

HEAD_LIMIT = 64 * 1024  # the most a request's or response's head may take
_HOP_HEADERS = {b"connection", b"keep-alive", b"proxy-connection", b"proxy-authorization",
                b"proxy-authenticate", b"te", b"trailer", b"upgrade"}


class _Refused(Exception):
    """The proxy answers this request itself (with ``status``) and connects nowhere."""

    def __init__(self, status: int, why: str):
        super().__init__(why)
        self.status = status


class PinningProxy:
    """Started once (:meth:`start` gives its ``http://127.0.0.1:port`` address), closed at
    the end of the crawl (:meth:`close`)."""

    def __init__(self, connect_timeout: float = 10.0, idle_timeout: float = 60.0):
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self.refused = 0
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._sock: socket.socket | None = None

    def start(self) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        self._sock = sock
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._serve, sock=sock, limit=HEAD_LIMIT))
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="nianbao-browser-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the browser's address proxy did not start")
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    def close(self) -> None:
        if self._thread is None:
            return

        async def stop() -> None:
            """Close the server and end its connections here, in the loop: a task left pending
            when the loop closes would run its ``finally`` at garbage collection, on a closed
            loop (a traceback on the crawl's stderr)."""
            if self._server is not None:
                self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=3)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._thread = None
        if not self._loop.is_running():
            self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_writer = None
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.connect_timeout)
            method, target, lines = _parse_head(head)
            if method == b"CONNECT":
                host, port = _host_port(f"//{target}", 443)
            else:
                parts = urlsplit(target)
                if parts.scheme != "http":
                    raise _Refused(400, f"not an absolute http:// URI: {target[:200]}")
                host, port = _host_port(target, 80)
            upstream_reader, upstream_writer = await self._connect(host, port)
            if method == b"CONNECT":
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
            else:
                upstream_writer.write(_origin_form(method, target, lines))
                await upstream_writer.drain()
                answer = await asyncio.wait_for(upstream_reader.readuntil(b"\r\n\r\n"),
                                                self.idle_timeout)
                writer.write(_closing(answer))
                await writer.drain()
            pipes = {asyncio.ensure_future(self._pipe(reader, upstream_writer)),
                     asyncio.ensure_future(self._pipe(upstream_reader, writer))}
            _, pending = await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:  # one side closed: the exchange is over
                task.cancel()
        except _Refused as exc:
            self.refused += 1
            logger.warning("browser proxy refused: %s", exc)
            reason = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}[exc.status]
            body = f"nianbao: {exc}\n".encode("utf-8", "replace")
            with contextlib.suppress(Exception):
                writer.write(b"HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                             % (exc.status, reason.encode(), len(body), body))
                await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ConnectionError, OSError, ValueError) as exc:
            logger.debug("browser proxy: %r", exc)
        except asyncio.CancelledError:
            # the proxy is closing: the connection ends here, not as a cancelled task (which
            # asyncio's stream server of Python 3.11 logs as an error with a traceback)
            logger.debug("browser proxy: closed with a connection open")
        finally:
            for w in (writer, upstream_writer):
                if w is not None:
                    with contextlib.suppress(Exception):
                        w.close()

    async def _connect(self, host: str, port: int):
        """A connection to the first pinned address of ``host`` that answers; never a lookup."""
        addresses = pinned(host)
        if not addresses:
            raise _Refused(403, f"{host} was not passed by the address guard")
        error: Exception | None = None
        for address in addresses:
            try:
                return await asyncio.wait_for(
                    asyncio.open_connection(address, port, limit=HEAD_LIMIT),
                    self.connect_timeout)
            except (TimeoutError, OSError) as exc:
                error = exc
        raise _Refused(502, f"{host}:{port} ({', '.join(addresses)}) did not connect: {error!r}")

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await asyncio.wait_for(reader.read(65536), self.idle_timeout)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (TimeoutError, ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                if writer.can_write_eof():
                    writer.write_eof()


def _parse_head(head: bytes) -> tuple[bytes, str, list[bytes]]:
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
        raise _Refused(400, "not an HTTP request")
    return parts[0].upper(), parts[1].decode("ascii", "replace"), lines[1:]


def _host_port(url: str, default: int) -> tuple[str, int]:
    parts = urlsplit(url)
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise _Refused(400, f"bad port ({exc})") from None
    if not host:
        raise _Refused(400, "no host")
    return host, port or default


def _origin_form(method: bytes, target: str, lines: list[bytes]) -> bytes:
    """The request as the origin server expects it: path, no proxy headers, one request."""
    parts = urlsplit(target)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kept = [line for line in lines
            if line.split(b":", 1)[0].strip().lower() not in _HOP_HEADERS]
    return b"\r\n".join([b"%s %s HTTP/1.1" % (method, path.encode("ascii", "replace")),
                         *kept, b"Connection: close", b"", b""])


def _closing(head: bytes) -> bytes:
    """A response head that tells Chromium this connection carries no second request (the
    next one may be for another host, which must go through the guard's pins again)."""
    lines = head[:-4].split(b"\r\n")
    kept = [lines[0], *(line for line in lines[1:]
                        if line.split(b":", 1)[0].strip().lower() not in _HOP_HEADERS)]
    return b"\r\n".join([*kept, b"Connection: close", b"", b""])
