"""What a discovery walk found: each government's portal, its 信息公开 platform, its bodies
and their 年报 columns, with the evidence (the page and the link text) for every step.

This is the record ``nianbao discover`` turns into candidate site entries for an operator to
review, and into the coverage report: per province, the divisions expected (from the codes),
the portals found, the columns found, and for every division without a column, why — no link
found, unreachable, blocked (a challenge), robots.txt, or no column on a reached portal.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

from nianbao.vocabulary.divisions import Division, descendants, divisions
from nianbao.vocabulary.issuers import issuer_kind

# A failure reason (crawler/failures.py) → what the coverage report calls it.
_BLOCKED = {"challenge"}
_ROBOTS = {"robots"}


def outcome_of(reason: str) -> str:
    """unreachable, blocked or robots, for a failure reason code."""
    if reason in _BLOCKED:
        return "blocked"
    if reason in _ROBOTS:
        return "robots"
    return "unreachable"


@dataclass
class Evidence:
    """Where a link was found: the page, and the text of the link."""

    page: str
    text: str


@dataclass
class Body:
    """A body expected to publish: the government, its office or a department."""

    name: str
    kind: str
    page: str | None = None  # its page on the platform (the government: the platform)
    column: str | None = None
    evidence: Evidence | None = None  # where its page, or its column, was linked


@dataclass
class Portal:
    code: str
    name: str
    homepage: str
    found: Evidence | None = None  # None: a seed
    matched: str = "seed"  # exact | variant | seed
    status: str = "pending"  # pending | reached | unreachable | blocked | robots
    reason: str | None = None  # the failure reason code, when not reached
    detail: str | None = None
    platform: str | None = None
    platform_found: Evidence | None = None
    vantage: str | None = None  # where it was seen from (crawl.vantage, or its region's)
    bodies: dict[str, Body] = field(default_factory=dict)

    @property
    def government(self) -> str:
        return self.name if self.name.endswith("人民政府") else self.name + "人民政府"

    def body(self, name: str) -> Body:
        if name not in self.bodies:
            kind = "government" if name == self.government else issuer_kind(name)
            self.bodies[name] = Body(name, kind)
        return self.bodies[name]

    @property
    def column(self) -> str | None:
        own = self.bodies.get(self.government)
        return own.column if own else None


class Tree:
    """Every portal of one walk, by division code."""

    def __init__(self) -> None:
        self.portals: dict[str, Portal] = {}
        self.ambiguous: list[dict] = []  # links that named two divisions (never guessed)

    def add(self, division: Division, homepage: str, found: Evidence | None,
            matched: str) -> Portal | None:
        """A newly found portal (None when this division's portal is already known)."""
        if division.code in self.portals:
            return None
        portal = Portal(division.code, division.name, homepage, found, matched)
        self.portals[division.code] = portal
        return portal

    def as_dict(self) -> dict:
        return {"portals": [asdict(p) for p in self.portals.values()],
                "ambiguous": self.ambiguous}


def candidate_entry(portal: Portal) -> dict:
    """A site entry for ``config/sites.yaml`` (unverified), with the walk's evidence."""
    columns = [b.column for b in portal.bodies.values() if b.column]
    hosts = sorted({urlsplit(u).hostname or "" for u in [portal.homepage, *columns]})
    evidence = {"portal": asdict(portal.found) if portal.found else "seed (config/provinces.yaml)",
                "platform": asdict(portal.platform_found) if portal.platform_found else None,
                "columns": {b.name: asdict(b.evidence) for b in portal.bodies.values()
                            if b.column and b.evidence}}
    return {
        "id": f"d{portal.code}",
        "name": portal.government,
        "region": portal.code,
        "homepage": portal.homepage,
        "domains": hosts,
        "columns": [{"url": u} for u in dict.fromkeys(columns)],
        "issuers": [{"name": b.name, "kind": b.kind} for b in portal.bodies.values()],
        "verified": False,
        "seen_at": evidence,
        "note": f"found by nianbao discover (matched {portal.matched}); review before accepting",
    }


def coverage(tree: Tree, provinces: list[str],
             observed: dict[str, bool] | None = None) -> list[dict]:
    """Per province: divisions expected, portals found, columns found, observed this cycle
    (``observed``: division code → a complete observation of its site this cycle), and the
    missing divisions with their reasons."""
    out = []
    observed = observed or {}
    for pcode in provinces:
        expected = [divisions()[pcode], *descendants(pcode)]
        missing = []
        found = columns = seen = 0
        for division in expected:
            portal = tree.portals.get(division.code)
            if portal is not None and portal.status != "pending":
                found += 1
            if portal is not None and portal.column:
                columns += 1
                seen += bool(observed.get(division.code))
                continue
            missing.append({"code": division.code, "name": division.name,
                            "level": division.level, **_why(portal)})
        out.append({"province": pcode, "name": divisions()[pcode].name,
                    "expected": len(expected), "portals_found": found,
                    "columns_found": columns, "observed": seen,
                    "by_level": _by_level(expected, tree), "missing": missing})
    return out


def _by_level(expected: list[Division], tree: Tree) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for division in expected:
        row = out.setdefault(division.level, {"expected": 0, "portals_found": 0,
                                              "columns_found": 0})
        portal = tree.portals.get(division.code)
        row["expected"] += 1
        row["portals_found"] += portal is not None and portal.status != "pending"
        row["columns_found"] += bool(portal is not None and portal.column)
    return out


def _why(portal: Portal | None) -> dict:
    if portal is None:
        return {"reason": "no-link", "detail": "no page of the walk linked this division"}
    if portal.status in ("unreachable", "blocked", "robots"):  # from there: say where
        return {"reason": portal.status, "detail": f"{portal.reason}: {portal.detail}",
                "vantage": portal.vantage}
    if portal.platform is None and portal.reason:  # its platform could not be read
        return {"reason": outcome_of(portal.reason), "detail": f"{portal.reason}: {portal.detail}"}
    if portal.platform is None:
        return {"reason": "no-platform", "detail": f"{portal.homepage} links no 信息公开 page"}
    return {"reason": "no-column", "detail": f"{portal.platform} leads to no 年报 column"}
