"""HTTP heads as they must be stored next to a decoded body.

The crawler's HTTP client has already removed any Content-Encoding, so the body we store is
the decoded payload. Stored as-is, the server's ``Content-Encoding: gzip`` would make pywb and
ReplayWeb.page try to gunzip plain bytes, and a chunked ``Transfer-Encoding`` or the
compressed ``Content-Length`` would make them cut or wait for the body. So those headers are
renamed ``X-Archive-Orig-<name>`` (the prefix pywb itself uses for headers it does not pass
through: nothing is lost, a reader of the WARC still sees what the server sent) and a
``Content-Length`` matching the stored body is set.
"""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders

ORIG_PREFIX = "X-Archive-Orig-"
_ENCODINGS = {"content-encoding", "transfer-encoding"}
# HTTP/2 and HTTP/3 have no text form; the record is the HTTP/1.1 serialisation of the
# exchange and WARC-Protocol (WARC 1.1 extension) says what was really on the wire.
_WIRE_PROTOCOLS = {"HTTP/2": "h2", "HTTP/2.0": "h2", "HTTP/3": "h3", "HTTP/3.0": "h3"}


class OctetHeaders(StatusAndHeaders):
    """Headers written back as the octets the server sent.

    HTTP header values are octets; the crawler (like Scrapy and WSGI) hands them over decoded
    as Latin-1, so encoding them as Latin-1 restores the exact bytes (a GBK filename in
    Content-Disposition stays GBK). warcio would instead percent-encode anything non-ASCII;
    that remains the fallback for values that are not Latin-1 text.
    """

    def compute_headers_buffer(self, header_filter=None) -> None:
        try:
            self.headers_buff = self.to_bytes(header_filter, encoding="latin-1")
        except UnicodeEncodeError:
            super().compute_headers_buffer(header_filter)


def has_body(method: str, status: int) -> bool:
    """Whether this status/method pair can carry a body (RFC 9110 §6.4.1)."""
    return method.upper() != "HEAD" and status >= 200 and status not in (204, 304)


def wire_protocol(protocol: str) -> str | None:
    """The ``WARC-Protocol`` value for a non-textual HTTP version, else ``None``."""
    return _WIRE_PROTOCOLS.get(protocol.upper())


def _text_protocol(protocol: str) -> str:
    return "HTTP/1.1" if wire_protocol(protocol) else protocol


def response_head(
    protocol: str,
    status: int,
    reason: str,
    headers: list[tuple[str, str]],
    body_length: int,
    method: str,
) -> OctetHeaders:
    """Status line and headers, made consistent with the decoded body of ``body_length``.

    For responses that cannot have a body (HEAD, 1xx, 204, 304) ``Content-Length`` describes
    the representation, not the message, so it is kept as sent; the encoding headers are
    still renamed because the same header on a later 200 would be wrong for our bytes.
    """
    fix_length = has_body(method, status)
    stored: list[tuple[str, str]] = []
    for name, value in headers:
        lower = name.lower()
        if lower == "content-length" and fix_length:
            if value.strip() != str(body_length):
                stored.append((ORIG_PREFIX + name, value))
        elif lower in _ENCODINGS:
            stored.append((ORIG_PREFIX + name, value))
        else:
            stored.append((name, value))
    if fix_length:
        stored.append(("Content-Length", str(body_length)))
    return OctetHeaders(
        f"{status} {reason or _phrase(status)}".rstrip(), stored, protocol=_text_protocol(protocol)
    )


def _phrase(status: int) -> str:
    """The standard reason phrase: HTTP/2 has none and Scrapy keeps none, but replay servers
    (WSGI) expect ``200 OK`` rather than a bare ``200``."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def request_head(
    method: str, url: str, protocol: str, headers: list[tuple[str, str]]
) -> OctetHeaders:
    """Request line and headers as sent; a missing ``Host`` is added (HTTP/1.1 clients send it
    at the transport layer, so the crawler's header list usually lacks it)."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    stored = list(headers)
    if not any(name.lower() == "host" for name, _ in stored):
        stored.insert(0, ("Host", parts.netloc.rpartition("@")[2]))
    return OctetHeaders(f"{target} {_text_protocol(protocol)}", stored, protocol=method.upper())
