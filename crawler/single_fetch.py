"""Fetch one URL for ``nianbao parse URL``, as politely as the crawler does.

Same User-Agent, timeout, retries with back-off, robots.txt and address rules as the spiders
(all from ``config/settings.yaml``), so a user checking one report behaves like the crawler.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import urllib.robotparser
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from nianbao.crawler.addresses import forbidden_address
from nianbao.parsers.document import DateEvidence
from nianbao.parsers.errors import ParseError


@dataclass
class Fetched:
    url: str
    body: bytes
    content_type: str | None
    dates: list[DateEvidence]


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, allowed: frozenset[str]):
        self.allowed = allowed

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        why = forbidden_address(urljoin(req.full_url, newurl), self.allowed)
        if why:
            raise ParseError("fetch", f"redirect to {newurl} refused: {why}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _robots_allows(url: str, agent: str, timeout: float) -> bool:
    parts = urlsplit(url)
    robots = urllib.robotparser.RobotFileParser()
    request = urllib.request.Request(
        f"{parts.scheme}://{parts.netloc}/robots.txt", headers={"User-Agent": agent}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            robots.parse(resp.read(512 * 1024).decode("utf-8", errors="replace").splitlines())
    except (urllib.error.URLError, TimeoutError, OSError):
        return True  # no robots.txt, or it cannot be read: the site set no rule
    return robots.can_fetch(agent, url)


def fetch_once(url: str, conf: dict, max_bytes: int) -> Fetched:
    agent, timeout = conf["user_agent"], float(conf["timeout_seconds"])
    allowed = frozenset(conf.get("allowed_private_hosts") or ())
    if why := forbidden_address(url, allowed):
        raise ParseError("fetch", f"{url} refused: {why}")
    if conf.get("obey_robots_txt", True) and not _robots_allows(url, agent, timeout):
        raise ParseError("fetch", f"{url} is disallowed by the site's robots.txt")
    opener = urllib.request.build_opener(_CheckedRedirects(allowed))
    request = urllib.request.Request(url, headers={"User-Agent": agent, "Accept": "*/*"})
    attempts = int(conf.get("retries", 0)) + 1
    for attempt in range(attempts):
        try:
            with opener.open(request, timeout=timeout) as resp:
                body = resp.read(max_bytes + 1)
                if len(body) > max_bytes:
                    raise ParseError("too-large", f"{url} is larger than {max_bytes} bytes")
                dates = []
                if lm := resp.headers.get("Last-Modified"):
                    try:
                        d = parsedate_to_datetime(lm).date().isoformat()
                        dates.append(DateEvidence("http:last-modified", d, lm))
                    except (TypeError, ValueError):
                        pass
                return Fetched(resp.geturl(), body, resp.headers.get("Content-Type"), dates)
        except urllib.error.HTTPError as exc:
            if exc.code < 500 or attempt == attempts - 1:
                raise ParseError("fetch", f"{url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            if attempt == attempts - 1:
                reason = getattr(exc, "reason", exc)
                raise ParseError("fetch", f"{url}: {reason}") from None
        time.sleep(float(conf.get("backoff_seconds", 1)) * 2**attempt)
    raise ParseError("fetch", f"{url}: no response")
