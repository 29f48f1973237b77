"""Requests and responses as the replica sites see them, and the HTTP caching rules
(ETag / Last-Modified, conditional requests → 304) that the crawler's revisits rely on."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlsplit

BEIJING = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Request:
    """One request, whichever way it reached the server (proxy, tunnel or direct).

    ``host`` is lower-case and carries a port only when it is not the scheme's default.
    """

    method: str
    scheme: str
    host: str
    target: str  # path and query, as sent
    headers: Message
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path or "/"

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.target).query))

    @property
    def form(self) -> dict[str, str]:
        """Query parameters and an urlencoded body together, as a JSP page reads them."""
        return {**self.query, **dict(parse_qsl(self.body.decode("utf-8", "replace")))}

    @property
    def cookies(self) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        for header in self.headers.get_all("Cookie") or ():
            try:
                jar.load(header)
            except CookieError:
                continue
        return {name: morsel.value for name, morsel in jar.items()}


@dataclass(frozen=True)
class Response:
    """What a site answers. A ``last_modified`` marks a static resource: it gets an ETag and
    a Last-Modified header and honours conditional requests; dynamic answers get neither."""

    status: int
    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    last_modified: datetime | None = None


def html(
    text: str,
    *,
    encoding: str = "utf-8",
    declare: bool = True,
    status: int = 200,
    last_modified: datetime | None = None,
) -> Response:
    """An HTML response; ``declare=False`` leaves the charset out of Content-Type."""
    content_type = f"text/html; charset={encoding}" if declare else "text/html"
    return Response(status, text.encode(encoding), content_type, last_modified=last_modified)


def http_date(moment: datetime) -> str:
    """RFC 9110 date; a naive datetime is Beijing time (the portals' clock)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)
    return format_datetime(aware.astimezone(UTC).replace(microsecond=0), usegmt=True)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:20] + '"'


def not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("If-Modified-Since")
    if since is None or request.method not in ("GET", "HEAD"):
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    modified = last_modified if last_modified.tzinfo else last_modified.replace(tzinfo=BEIJING)
    return when is not None and modified.replace(microsecond=0) <= when


def with_validators(request: Request, response: Response) -> Response:
    """Add ETag and Last-Modified to a static response, or turn it into a 304."""
    if response.last_modified is None or response.status != 200:
        return response
    etag = etag_of(response.body)
    validators = (("ETag", etag), ("Last-Modified", http_date(response.last_modified)))
    if not_modified(request, etag, response.last_modified):
        return Response(304, b"", None, validators + response.headers)
    return replace(response, headers=validators + response.headers)
