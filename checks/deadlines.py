"""The deadline one issuer owes for one report year: law as data, overrides as configuration.

The dates live in ``config/deadlines.yaml`` (regimes by report year, a date per issuer kind);
a site entry's ``deadline_rules`` and an issuer item's ``deadline`` override them, so a
locality's notice (乡镇 by 2月20日, say) is a line of YAML and never a code change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from nianbao.settings import PROJECT_ROOT
from nianbao.sites import Site

DEFAULT_PATH = PROJECT_ROOT / "config" / "deadlines.yaml"
KINDS = ("government", "office", "department", "township", "other")
# deadline_rules keys in a site entry: "departments" reads better there than "department".
SITE_KEYS = {"departments": "department", "government": "government", "office": "office",
             "township": "township", "other": "other"}
MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


class DeadlineError(ValueError):
    """A deadline setting that cannot be used; the message names where it came from."""


@dataclass(frozen=True)
class Regime:
    name: str
    first_year: int | None
    last_year: int | None
    overridable: bool
    deadlines: dict[str, str]

    def covers(self, year: int) -> bool:
        return (self.first_year is None or year >= self.first_year) and (
            self.last_year is None or year <= self.last_year)


@dataclass(frozen=True)
class Deadline:
    """A resolved deadline and the rule it came from, for the verdict's explanation."""

    due: date
    grace_days: int
    rule: str


@dataclass(frozen=True)
class DeadlineRules:
    timezone: ZoneInfo
    grace_days: int
    first_seen_after_days: int
    disagreement_days: int
    regimes: tuple[Regime, ...]

    def regime(self, year: int) -> Regime:
        for regime in self.regimes:
            if regime.covers(year):
                return regime
        raise DeadlineError(f"no regime in the deadlines file covers report year {year}")

    def deadline(self, site: Site, issuer: str, kind: str, year: int) -> Deadline:
        """Issuer override, then site override (for an overridable regime), then the law."""
        regime = self.regime(year)
        grace = int(site.deadline_rules.get("grace_days", self.grace_days))
        if regime.overridable:
            own = issuer_deadline(site, issuer)
            if own is not None:
                return Deadline(month_day(own, year, f"{site.id}: {issuer}"), grace,
                                f"{site.id} 对 {issuer} 的规定 ({own})")
            for key, site_kind in SITE_KEYS.items():
                if site_kind == kind and key in site.deadline_rules:
                    value = str(site.deadline_rules[key])
                    return Deadline(month_day(value, year, f"{site.id}: deadline_rules.{key}"),
                                    grace, f"{site.id} 的地方规定 ({key} {value})")
        value = regime.deadlines[kind]
        return Deadline(month_day(value, year, regime.name), grace, f"{regime.name} ({kind})")


def month_day(value: str, report_year: int, where: str) -> date:
    """"MM-DD" as a date in the year after the report year."""
    match = MONTH_DAY.match(str(value))
    if not match:
        raise DeadlineError(f"{where}: deadline {value!r} is not MM-DD")
    try:
        return date(report_year + 1, int(match[1]), int(match[2]))
    except ValueError:
        raise DeadlineError(f"{where}: deadline {value!r} is not a day of the year") from None


def issuer_deadline(site: Site, issuer: str) -> str | None:
    """The ``deadline`` of the site entry's issuer item named ``issuer`` (name or alias)."""
    for item in site.raw.get("issuers") or []:
        if isinstance(item, dict) and issuer in (item.get("name"), *(item.get("aliases") or [])):
            return item.get("deadline")
    return None


def _regime(item: dict[str, Any]) -> Regime:
    deadlines = {str(k): str(v) for k, v in (item.get("deadlines") or {}).items()}
    missing = set(KINDS) - set(deadlines)
    if missing:
        raise DeadlineError(f"regime {item.get('name')!r}: no deadline for {sorted(missing)}")
    return Regime(str(item["name"]), item.get("first_year"), item.get("last_year"),
                  bool(item.get("overridable")), deadlines)


def load_rules(path: Path = DEFAULT_PATH) -> DeadlineRules:
    """Read the deadlines file (``config/deadlines.yaml`` by default)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    warnings = data.get("warnings") or {}
    return DeadlineRules(
        timezone=ZoneInfo(data.get("timezone", "Asia/Shanghai")),
        grace_days=int(data.get("grace_days", 0)),
        first_seen_after_days=int(warnings.get("first_seen_after_days", 30)),
        disagreement_days=int(warnings.get("disagreement_days", 1)),
        regimes=tuple(_regime(item) for item in data["regimes"]),
    )
