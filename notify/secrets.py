"""Apprise URLs carry passwords and tokens: what a person or a log may see of them.

A subscription's URL is shown as Apprise's own privacy form (``json://user:****@host/…``,
``dingtalk://m...9/``), and any text that may quote it — an error, a log line — has the URL's
secret parts replaced by ``****`` before it is printed, stored or logged.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise

MASK = "****"
_SHORTEST_SECRET = 4


def masked_url(url: str) -> str:
    """``url`` with its secrets hidden, for lists, errors and logs."""
    try:
        with scrubbed_logs(url):
            plugin = apprise.Apprise.instantiate(url)
    except Exception:  # Apprise's parsers raise on some malformed URLs
        plugin = None
    if plugin is not None:
        return plugin.url(privacy=True)
    scheme = url.partition("://")[0] if "://" in url else ""
    return f"{scheme[:20]}://{MASK}" if scheme.isalnum() else MASK


def _secrets(url: str) -> list[str]:
    """The parts of ``url`` that may be credentials: user, password, a host without a dot
    (Apprise puts tokens there: ``dingtalk://TOKEN/…``), path segments and query values."""
    try:
        parts = urlsplit(url)
        found = [url, parts.username, parts.password, *parts.path.split("/"),
                 *(value for _, value in parse_qsl(parts.query))]
        host = parts.hostname
    except ValueError:
        return [url]
    if host and "." not in host and ":" not in host and host != "localhost":
        found.append(host)
    secrets = {s for s in found if s and len(s) >= _SHORTEST_SECRET}
    secrets |= {unquote(s) for s in secrets}
    return sorted(secrets, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` with every secret part of ``url`` replaced by ``****``."""
    for secret in _secrets(url):
        text = text.replace(secret, MASK)
    return text


class _ScrubFilter(logging.Filter):
    def __init__(self, url: str):
        super().__init__()
        self.url = url

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage(), self.url), ()
        return True


@contextlib.contextmanager
def scrubbed_logs(url: str, logger_name: str = "apprise") -> Iterator[None]:
    """While sending to ``url``, Apprise's log lines (to any handler) lose its secrets."""
    logger = logging.getLogger(logger_name)
    log_filter = _ScrubFilter(url)
    logger.addFilter(log_filter)
    try:
        yield
    finally:
        logger.removeFilter(log_filter)
