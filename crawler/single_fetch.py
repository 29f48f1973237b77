"""Fetch one URL for ``nianbao parse URL``, as politely and as safely as the crawler does.

Same User-Agent, timeout, retries with back-off, robots.txt and address rules as the spiders
(all from ``config/settings.yaml``), so a user checking one report behaves like the crawler.

One fetch path serves the document and its robots.txt: every hop (redirects included) passes
the address guard, and the connection goes to the address the guard checked — by IP, with the
name in the Host header and the TLS SNI — so a second, different DNS answer (DNS rebinding)
is never used. robots.txt is read with Protego, the parser Scrapy uses. It connects directly:
the ``http_proxy`` environment variables the standard library would follow are not used.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from protego import Protego

from nianbao.crawler.addresses import check_host
from nianbao.parsers.document import DateEvidence
from nianbao.parsers.errors import ParseError

MAX_REDIRECTS = 5
ROBOTS_MAX_BYTES = 512 * 1024


@dataclass
class Fetched:
    url: str
    body: bytes
    content_type: str | None
    dates: list[DateEvidence]
    robots: str = ""  # how robots.txt was read


@dataclass
class _Answer:
    url: str
    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes
    history: list[str] = field(default_factory=list)


class _Refused(Exception):
    """The guard refused a URL (the first or a redirect hop)."""


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _get_once(url: str, agent: str, timeout: float, allowed: frozenset[str],
              max_bytes: int) -> tuple[http.client.HTTPResponse, bytes]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise _Refused(f"scheme {parts.scheme or '(none)'} is not fetched")
    try:
        host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise _Refused(f"bad port ({exc})") from None
    if not host:
        raise _Refused("URL has no host")
    why, addresses = check_host(host, port, allowed)
    if why:
        raise _Refused(why)
    kind = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    connection = kind(host, port, addresses[0], timeout)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", target, headers={"User-Agent": agent, "Accept": "*/*",
                                                   "Connection": "close"})
        response = connection.getresponse()
        return response, response.read(max_bytes + 1)
    finally:
        connection.close()


def guarded_get(url: str, agent: str, timeout: float, allowed: frozenset[str],
                max_bytes: int) -> _Answer:
    """GET ``url``, following up to ``MAX_REDIRECTS`` redirects, each hop guarded and pinned.
    ``_Refused`` when a hop is refused; OSError / HTTPException when the network fails."""
    history: list[str] = []
    for _ in range(MAX_REDIRECTS + 1):
        try:
            response, body = _get_once(url, agent, timeout, allowed, max_bytes)
        except _Refused as exc:
            if history:
                raise _Refused(f"redirect to {url} refused: {exc}") from None
            raise
        location = response.getheader("Location")
        if response.status in (301, 302, 303, 307, 308) and location:
            history.append(url)
            url = urljoin(url, location.strip())
            continue
        return _Answer(url, response.status, response.reason, response.headers, body, history)
    raise _Refused(f"more than {MAX_REDIRECTS} redirects")


def robots_verdict(url: str, agent: str, timeout: float,
                   allowed: frozenset[str]) -> tuple[bool, str]:
    """(whether robots.txt lets ``agent`` fetch ``url``, how robots.txt was read), as Scrapy's
    robots.txt middleware decides: rules from a 200 answer (Protego), no rule otherwise."""
    parts = urlsplit(url)
    robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
    try:
        answer = guarded_get(robots_url, agent, timeout, allowed, ROBOTS_MAX_BYTES)
    except _Refused as exc:
        return True, f"robots.txt could not be fetched (forbidden-address: {exc}): no rule applied"
    except (OSError, http.client.HTTPException) as exc:
        return True, f"robots.txt could not be fetched ({exc}): no rule applied"
    if answer.status != 200:
        return True, f"robots.txt answered HTTP {answer.status}: no rule applied"
    rules = Protego.parse(answer.body[:ROBOTS_MAX_BYTES].decode("utf-8", errors="replace"))
    return bool(rules.can_fetch(url, agent)), "robots.txt read"


def fetch_once(url: str, conf: dict, max_bytes: int) -> Fetched:
    agent, timeout = conf["user_agent"], float(conf["timeout_seconds"])
    allowed = frozenset(conf.get("allowed_private_hosts") or ())
    robots = ""
    if conf.get("obey_robots_txt", True):
        permitted, robots = robots_verdict(url, agent, timeout, allowed)
        if not permitted:
            raise ParseError("fetch", f"{url} is disallowed by the site's robots.txt")
    attempts = int(conf.get("retries", 0)) + 1
    for attempt in range(attempts):
        try:
            answer = guarded_get(url, agent, timeout, allowed, max_bytes)
        except _Refused as exc:
            raise ParseError("fetch", f"{url} refused: {exc}") from None
        except (OSError, http.client.HTTPException) as exc:
            if attempt == attempts - 1:
                raise ParseError("fetch", f"{url}: {exc}") from None
        else:
            if answer.status >= 500 and attempt < attempts - 1:
                pass  # a server error: try again after the back-off
            elif answer.status >= 400:
                raise ParseError("fetch", f"{url}: HTTP {answer.status} {answer.reason}")
            else:
                return _fetched(answer, max_bytes, robots)
        time.sleep(float(conf.get("backoff_seconds", 1)) * 2**attempt)
    raise ParseError("fetch", f"{url}: no response")


def _fetched(answer: _Answer, max_bytes: int, robots: str) -> Fetched:
    if len(answer.body) > max_bytes:
        raise ParseError("too-large", f"{answer.url} is larger than {max_bytes} bytes")
    dates = []
    if lm := answer.headers.get("Last-Modified"):
        try:
            d = parsedate_to_datetime(lm).date().isoformat()
            dates.append(DateEvidence("http:last-modified", d, lm))
        except (TypeError, ValueError):
            pass
    return Fetched(answer.url, answer.body, answer.headers.get("Content-Type"), dates, robots)
