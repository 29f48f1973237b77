"""Real published reports (text as stored in the `pages` corpus, cited by URL in each .json).

Each fixture's ``expected`` figures were read by hand from its text; the texts are cut off
where the corpus cut them, so only the visible figures are compared.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nianbao.parsers.pipeline import parse_bytes
from tests.conftest import metric_mismatches

REAL = Path(__file__).parent / "fixtures" / "real"
FIXTURES = sorted(p.stem for p in REAL.glob("*.json"))


def _load(slug: str) -> tuple[dict, dict]:
    meta = json.loads((REAL / f"{slug}.json").read_text(encoding="utf-8"))
    record = parse_bytes((REAL / f"{slug}.txt").read_bytes(), meta["url"])
    return meta, record


@pytest.mark.parametrize("slug", FIXTURES)
def test_visible_figures_are_exact(slug: str) -> None:
    meta, record = _load(slug)
    assert meta["url"].startswith("http")
    assert record["format"] == meta["format"]
    assert metric_mismatches(record, meta["expected"]) == []
    if meta.get("report_year"):
        assert record["report_year"] in (None, meta["report_year"])


def test_enough_real_reports_of_each_format() -> None:
    formats = [json.loads((REAL / f"{s}.json").read_text())["format"] for s in FIXTURES]
    assert formats.count("2019") >= 6 and formats.count("2021") >= 6
