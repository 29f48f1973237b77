"""Real published reports, scored: issuer, report year, format and every visible table figure.

Each fixture in ``fixtures/real/`` is the text of a real report page or document as a portal
published it (cited by URL in its ``.json``), with the issuer as printed, the report year, the
format and the table figures visible in it, all read by hand. Most texts stop where the stored
copy stopped, often inside or before the tables: only what is visible is scored.

What counts as a match:

* **issuer** — the parsed issuer names the same body as the one printed (or one of the
  fixture's ``issuer_aliases``, other spellings the same text uses) under the rule the store
  uses to attribute reports (``nianbao.vocabulary.issuers``: normalised, and equal or differing
  only by a leading place name). When the text names no issuer the expected value is ``null``
  and only ``null`` matches: a sentence fragment is never an issuer.
* **report year** — equal (``null`` when the text states none).
* **format** — equal; ``unknown`` when no row of table 二 or 三 with values is visible.
* **figures** — each expected metric equal in value and type (0 is not 0.0).

The scores are printed overall and per failure class of issue 10 (each fixture lists the
classes it exercises), followed by every miss with its reason.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nianbao.parsers.pipeline import parse_bytes
from nianbao.vocabulary.issuers import normalize_issuer, same_body
from tests.conftest import metric_mismatches

REAL = Path(__file__).parent / "fixtures" / "real"
FIXTURES = sorted(p.stem for p in REAL.glob("*.json"))

THRESHOLDS = {"issuer": 0.95, "report_year": 0.98, "figures": 0.99}
CLASSES = {
    1: "navigation chrome before the title",
    2: "no title line: issuer in the opening sentence, or none",
    3: "title split over lines",
    4: "title variants",
    5: "page metadata (信息公开目录 box, meta tags)",
    6: "year from the statistics period or the body",
    7: "no readable tables",
    8: "table cases",
    9: "names as written",
}


def _meta(slug: str) -> dict:
    return json.loads((REAL / f"{slug}.json").read_text(encoding="utf-8"))


def issuer_matches(got: str | None, expected: str | None, aliases: list[str]) -> bool:
    if expected is None:
        return got is None
    if not got:
        return False
    mine = normalize_issuer(got)
    return any(same_body(mine, normalize_issuer(name)) for name in [expected, *aliases])


@dataclass
class Tally:
    hits: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    totals: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, what: str, ok: bool, n: int = 1, hits: int | None = None) -> None:
        self.totals[what] += n
        self.hits[what] += (n if ok else 0) if hits is None else hits

    def share(self, what: str) -> float:
        return self.hits[what] / self.totals[what] if self.totals[what] else 1.0

    def line(self, name: str) -> str:
        parts = [
            f"{what} {self.hits[what]}/{self.totals[what]} ({self.share(what):.1%})"
            for what in ("issuer", "report_year", "format", "figures")
            if self.totals[what]
        ]
        return f"{name:<58} " + " · ".join(parts)


def score(slug: str, tallies: dict[object, Tally], misses: list[str]) -> None:
    meta = _meta(slug)
    record = parse_bytes((REAL / f"{slug}.txt").read_bytes(), meta["url"])
    groups = [tallies["all"], *(tallies[c] for c in meta.get("classes", []))]

    def add(what: str, ok: bool, why: str, n: int = 1, hits: int | None = None) -> None:
        for tally in groups:
            tally.add(what, ok, n, hits)
        if not ok:
            misses.append(f"{slug}: {what}: {why}")

    evidence = record.get("evidence", {})
    add("issuer",
        issuer_matches(record["issuer"], meta["issuer"], meta.get("issuer_aliases", [])),
        f"expected {meta['issuer']!r}, got {record['issuer']!r} "
        f"(from {evidence.get('issuer')}; title {record['title']!r})")
    add("report_year", record["report_year"] == meta["report_year"],
        f"expected {meta['report_year']}, got {record['report_year']} "
        f"(from {evidence.get('report_year')})")
    add("format", record["format"] == meta["format"],
        f"expected {meta['format']}, got {record['format']} ({record.get('reason', '')})")
    expected = meta["expected"]
    if expected:
        wrong = metric_mismatches(record, expected)
        add("figures", not wrong, f"{len(wrong)} of {len(expected)} wrong: " + ", ".join(
            f"{k} expected {want} got {got}" for k, want, got in wrong[:6]
        ) + (" …" if len(wrong) > 6 else ""), n=len(expected), hits=len(expected) - len(wrong))


def test_real_reports_are_read(capsys: pytest.CaptureFixture) -> None:
    tallies: dict[object, Tally] = defaultdict(Tally)
    misses: list[str] = []
    for slug in FIXTURES:
        score(slug, tallies, misses)
    with capsys.disabled():
        print(f"\nReal reports: {len(FIXTURES)} fixtures")
        print(tallies["all"].line("all"))
        for number, name in CLASSES.items():
            if number in tallies:
                print(tallies[number].line(f"class {number}: {name}"))
        print(f"{len(misses)} misses:")
        for miss in misses:
            print("  " + miss)
    overall = tallies["all"]
    for what, minimum in THRESHOLDS.items():
        assert overall.share(what) >= minimum, f"{what}: {overall.share(what):.1%} < {minimum:.0%}"


def test_the_set_is_real_varied_and_tagged() -> None:
    metas = [_meta(slug) for slug in FIXTURES]
    assert len(metas) >= 150
    assert all(m["url"].startswith("http") for m in metas)
    years = {m["report_year"] for m in metas if m["report_year"]}
    assert set(range(2019, 2025)) <= years
    formats = [m["format"] for m in metas]
    assert formats.count("2019") >= 15 and formats.count("2021") >= 20
    assert formats.count("unknown") >= 15
    for number in CLASSES:
        assert sum(number in m.get("classes", []) for m in metas) >= 5, f"class {number}"
