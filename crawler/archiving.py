"""Hand a Scrapy request/response pair to the WARC archive, and remember where it went.

The archive keeps payloads as the client saw them after content decoding (what was parsed);
``archive/warc.py`` records the removed ``Content-Encoding`` so replay stays faithful.
"""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime

from scrapy import Request
from scrapy.http import Response

from nianbao.archive.warc import WarcArchive
from nianbao.crawler import meta


def _pairs(headers) -> list[tuple[str, str]]:
    return [
        (k.decode("latin-1"), v.decode("latin-1"))
        for k, values in headers.items()
        for v in values
    ]


def _decoded(body: bytes, encoding: str) -> bytes:
    """The body without its Content-Encoding (gzip/deflate); unchanged if it cannot be."""
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)
    except (OSError, EOFError, zlib.error):
        return body
    return body


def archive_response(
    archive: WarcArchive, request: Request, response: Response, rendered_by: str | None = None
) -> dict:
    """Write the exchange; store the pointer in ``request.meta[WARC]`` and return it. A 304
    archived as a revisit of the URL's last archived response leaves that response's body,
    which the archive read back and checked to cite it, in ``request.meta[CONFIRMED_BODY]``
    (the freshness middleware answers the 304 with it instead of reading it again)."""
    encoding = (response.headers.get("Content-Encoding") or b"").decode("latin-1").lower()
    body = _decoded(response.body, encoding) if encoding else response.body
    fetched_at = datetime.now(UTC)
    request.meta[meta.FETCHED_AT] = fetched_at
    archived = archive.archive_exchange(
        url=response.url,
        method=request.method,
        request_headers=_pairs(request.headers),
        status=response.status,
        reason="",
        response_headers=_pairs(response.headers),
        body=body,
        fetched_at=fetched_at,
        rendered_by=rendered_by,
        ip=str(response.ip_address) if response.ip_address else None,
        # Not fsynced here: the crawl makes a record durable (one fsync for all written since
        # the last, off the event loop) before it stores a row pointing to it
        # (``crawler/pipelines.py``, ``crawler/freshness.py``).
        sync=False,
    )
    pointer = archived.pointer.as_dict()
    request.meta[meta.WARC] = pointer
    if response.status == 304 and archived.pointer.revisit:
        request.meta[meta.CONFIRMED_BODY] = archived.payload
    return pointer


def browser_label(page) -> str:
    """How a rendered DOM was made, for the archive's metadata record."""
    try:
        return f"chromium {page.context.browser.version} via playwright"
    except AttributeError:
        return "chromium via playwright"
