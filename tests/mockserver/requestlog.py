"""What the replica server was asked and what it answered, for tests to inspect: which client
fetched what, how much it cost the "portal", and whether forbidden addresses were reached."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from email.message import Message


@dataclass(frozen=True)
class LogEntry:
    time: float  # time.time() when the answer was sent
    client: str  # guessed from the headers: browser, urllib, curl, or the User-Agent's product
    method: str
    scheme: str
    host: str
    target: str  # path and query
    status: int
    bytes: int  # response size, status line and headers included
    headers: dict[str, str]  # request headers

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}{self.target}"


BROWSER_HEADERS = ("sec-fetch-mode", "sec-ch-ua", "upgrade-insecure-requests", "proxy-connection")


def client_kind(headers: Message) -> str:
    """A guess at the client. A browser may send a crawler's User-Agent (nianbao's Playwright
    contexts do), so after the clients that name themselves, headers only browsers send (among
    the clients used here: Scrapy sends none of them) decide."""
    agent = headers.get("User-Agent", "")
    names = {k.lower() for k in headers}
    for prefix, kind in (("Python-urllib", "urllib"), ("curl", "curl")):
        if agent.startswith(prefix):
            return kind
    if "Chrome/" in agent or any(h in names for h in BROWSER_HEADERS):
        return "browser"
    return agent.split("/", 1)[0].strip().lower() or "unknown"


class RequestLog:
    """A thread-safe, append-only list of ``LogEntry``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LogEntry] = []

    def add(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self, host: str | None = None) -> list[LogEntry]:
        with self._lock:
            return [e for e in self._entries if host is None or e.host == host]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
