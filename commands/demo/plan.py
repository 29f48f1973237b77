"""What the demo portal holds and plants on purpose (``plan.yaml``), and the crawl judged by it.

A demo that shows failures must say which ones it caused: a user who sees ``http-404`` must
be able to tell the portal's planted dead link from a real problem of their installation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

PLAN_FILE = Path(__file__).resolve().parent / "plan.yaml"


@dataclass(frozen=True)
class Planted:
    site: str
    url: str
    reason: str
    what: str


@dataclass(frozen=True)
class Plan:
    as_of: date
    reports: tuple[tuple[str, str, int], ...]  # (site, issuer, report year)
    planted: tuple[Planted, ...]
    verdicts: tuple[dict, ...]

    @classmethod
    def load(cls, portal_url: str, path: Path = PLAN_FILE) -> Plan:
        """The plan with the portal's own paths made into URLs at ``portal_url``."""
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        planted = tuple(
            Planted(p["site"], portal_url + p["url"] if p["url"].startswith("/") else p["url"],
                    p["reason"], p["what"])
            for p in data["planted"])
        return cls(as_of=data["as_of"],
                   reports=tuple((r["site"], r["issuer"], r["year"]) for r in data["reports"]),
                   planted=planted, verdicts=tuple(data["verdicts"]))

    def planted_as(self, failure: dict) -> str | None:
        """What the portal planted where ``failure`` happened, or None for a real failure."""
        for p in self.planted:
            if (failure["site_id"], failure["url"], failure["reason"]) == (p.site, p.url,
                                                                           p.reason):
                return p.what
        return None

    def missing_reports(self, stored: list[dict]) -> list[str]:
        """The planned reports the crawl did not store, as readable lines."""
        found = {(r["site"], r["issuer"], r["report_year"]) for r in stored}
        return [f"{site}: {issuer} {year}" for site, issuer, year in self.reports
                if (site, issuer, year) not in found]

    def unmet(self, failures: list[dict]) -> list[Planted]:
        """Planted problems the crawl did not run into (e.g. a look-alike skipped by its title
        before it was fetched): worth saying, not an error."""
        met = {(f["site_id"], f["url"], f["reason"]) for f in failures}
        return [p for p in self.planted if (p.site, p.url, p.reason) not in met]
