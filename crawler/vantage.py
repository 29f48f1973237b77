"""Where a request leaves from: a region's own proxy and vantage label, else the machine's.

A portal that refuses this machine may answer a client in its own province (many county
portals filter by the visitor's province). ``crawl.regions`` in ``config/settings.yaml`` maps a
division (``"140000"``: all of Shanxi; ``"140100"``: Taiyuan and its counties; a full code: one
county) to a proxy and a vantage label; a site's ``region`` (or, in discovery, the division a
portal belongs to) picks the most specific entry, else ``crawl.proxy`` and ``crawl.vantage``.
The label goes with every observation made that way, so "blocked from here" is never read as
"missing". A regional proxy changes only the way out: every request still passes the address
guard (``addresses.py``) under the same rules as any proxied fetch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Way:
    """The proxy (None: direct) and the vantage label requests of one region go by."""

    proxy: str | None
    vantage: str | None


def division_prefix(code: str) -> str:
    """A division code as the prefix its descendants share: 140000 → 14, 140100 → 1401."""
    code = str(code).strip()
    if not re.fullmatch(r"\d{2}(\d{2}){0,2}", code):
        raise ValueError(f"crawl.regions: {code!r} is not a division code (2, 4 or 6 digits)")
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


class Ways:
    """The configured ways out, looked up by division code."""

    def __init__(self, regions: dict | None, proxy: str | None, vantage: str | None):
        self.default = Way(proxy or None, vantage or None)
        self.regions: dict[str, Way] = {}
        for code, conf in (regions or {}).items():
            conf = conf or {}
            if not conf.get("proxy") and not conf.get("vantage"):
                raise ValueError(f"crawl.regions: {code}: give a proxy, a vantage or both")
            self.regions[division_prefix(code)] = Way(conf.get("proxy") or self.default.proxy,
                                                      conf.get("vantage") or self.default.vantage)

    @classmethod
    def from_settings(cls, conf) -> Ways:
        """From a crawl's Scrapy settings (``NIANBAO_REGIONS``, ``NIANBAO_PROXY``,
        ``NIANBAO_VANTAGE``)."""
        return cls(conf.getdict("NIANBAO_REGIONS"), conf.get("NIANBAO_PROXY"),
                   conf.get("NIANBAO_VANTAGE"))

    def of(self, region: str | None) -> Way:
        """The way for a division code (its most specific configured ancestor), or the
        machine's own."""
        if region:
            for length in (6, 4, 2):
                way = self.regions.get(str(region)[:length])
                if way is not None:
                    return way
        return self.default

    def proxies(self) -> set[str]:
        """Every regional proxy (Chromium gets a context for each)."""
        return {w.proxy for w in self.regions.values() if w.proxy} - {self.default.proxy}
