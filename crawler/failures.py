"""Why a request failed, as the reason code stored for it (``dns``, ``timeout``,
``http-404``, ``challenge``, ``robots``…) and a short detail for people."""

from __future__ import annotations

from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)

from nianbao.crawler.challenges import challenge_kind
from nianbao.crawler.middlewares import Refused
from nianbao.crawler.responses import lower_headers


def failure_reason(failure) -> tuple[str, str]:
    """(reason, detail) for a Twisted failure of a request."""
    exc = failure.value
    if isinstance(exc, Refused):
        return exc.reason, exc.detail
    if isinstance(exc, HttpError):
        response = exc.response
        challenge = challenge_kind(response.status, lower_headers(response), response.url,
                                   response.body)
        if challenge:
            return "challenge", f"HTTP {response.status}: {challenge} challenge not passed"
        return f"http-{response.status}", f"HTTP {response.status}"
    if isinstance(exc, DNSLookupError):
        return "dns", str(exc)
    if isinstance(exc, TimeoutError | TCPTimedOutError):
        return "timeout", str(exc) or "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection-refused", str(exc)
    message = str(exc)
    if "robots.txt" in message:
        return "robots", message
    return type(exc).__name__.lower(), message[:500]


def http_status(failure) -> int | None:
    """The HTTP status of a failure that is an error response, else None."""
    return failure.value.response.status if isinstance(failure.value, HttpError) else None
