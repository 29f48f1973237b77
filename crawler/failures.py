"""Why a request failed, as the reason code stored for it and a short detail for people.

The codes are a fixed vocabulary that observations and verdicts rely on: ``dns``,
``timeout``, ``connection``, ``tls``, ``http-<status>`` (``http-404``, ``http-503``…),
``challenge`` (the detail names which), ``robots``, ``budget``, ``trap``,
``forbidden-address``, ``out-of-scope``, ``soft-404``, ``not-html``…
"""

from __future__ import annotations

from scrapy import Request
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectError, ConnectionLost, DNSLookupError
from twisted.internet.error import TimeoutError as TwistedTimeout
from twisted.web.client import ResponseFailed

from nianbao.crawler import meta
from nianbao.crawler.challenges import NAMES, challenge_kind
from nianbao.crawler.middlewares import Refused
from nianbao.crawler.responses import lower_headers

ROBOTS_MESSAGE = "Forbidden by robots.txt"  # what Scrapy's RobotsTxtMiddleware raises
_DNS = (CannotResolveHostError, DNSLookupError)
_TIMEOUT = (DownloadTimeoutError, TwistedTimeout)
_CONNECTION = (DownloadConnectionRefusedError, DownloadFailedError, ResponseDataLossError,
               ConnectError, ConnectionLost, ResponseFailed)


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
            return "challenge", f"HTTP {response.status}: {NAMES[challenge]} challenge not passed"
        return f"http-{response.status}", f"HTTP {response.status}"
    if isinstance(exc, IgnoreRequest) and ROBOTS_MESSAGE in str(exc):
        return "robots", "the site's robots.txt forbids this URL"
    causes = _causes(exc)
    detail = _describe(causes)
    if any(isinstance(c, _DNS) for c in causes):
        return "dns", detail
    if any(isinstance(c, _TIMEOUT) or type(c).__name__ == "TimeoutError" for c in causes):
        return "timeout", detail  # Twisted's, Scrapy's, or Playwright's navigation timeout
    if any("SSL" in type(c).__name__ or "ssl" in type(c).__module__.lower() for c in causes):
        return "tls", detail
    if any(isinstance(c, _CONNECTION) for c in causes):
        return "connection", detail
    return type(exc).__name__.lower(), detail


def failed_visit(failure) -> tuple[Request, str, str]:
    """(the request the failure is about, reason, detail). A browser visit that was to pass a
    challenge (``meta.SOLVE_FOR``) is about the page it was for, and whatever stopped it — a
    navigation or browser step out of time on a loaded machine included — is that challenge
    not passed: the portal answered, with the challenge, so it is never called unreachable."""
    request = failure.request
    reason, detail = failure_reason(failure)
    if meta.SOLVE_FOR not in request.meta:
        return request, reason, detail
    request = request.meta[meta.SOLVE_FOR]
    if reason != "challenge":
        kind = NAMES.get(request.meta.get(meta.CHALLENGE, ""), "anti-bot")
        detail = f"the browser did not pass the {kind} challenge ({reason}: {detail})"
        reason = "challenge"
    return request, reason, detail


def http_status(failure) -> int | None:
    """The HTTP status of a failure that is an error response, else None."""
    return failure.value.response.status if isinstance(failure.value, HttpError) else None


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, what it was raised from, and the failures a Twisted response failure
    wraps (a TLS error hides there)."""
    found: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo and len(found) < 20:
        current = todo.pop(0)
        found.append(current)
        if current.__cause__ is not None:
            todo.append(current.__cause__)
        todo += [getattr(r, "value", r) for r in getattr(current, "reasons", None) or []]
    return found


def _describe(causes: list[BaseException]) -> str:
    innermost = next((c for c in reversed(causes) if str(c).strip()), causes[0])
    text = str(innermost).strip() or type(innermost).__name__
    return text.splitlines()[0][:500]
