"""The national statistic: per province and level, for one report year, how many bodies were
expected to publish, how many were observed, on time, late (and by how many days), missing or
unobserved.

Every figure is a count of stored verdicts (``verdicts`` table, kept by each evaluation as of
today), never recomputed here: each row carries the ids of the verdicts behind each count, and
each verdict carries its evidence (date source, observation). A site's province and level come
from its ``region`` code (``nianbao.vocabulary.divisions``); a site without a known code is
counted under province and level ``unknown``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from nianbao.checks.compliance import STATUSES
from nianbao.storage.models import Site, VerdictRow
from nianbao.vocabulary.divisions import divisions

UNKNOWN = "unknown"


@dataclass
class StatsRow:
    province: str
    province_name: str
    level: str
    expected: int = 0
    observed: int = 0  # every verdict but unobserved: a place was read, or a report was seen
    counts: Counter = field(default_factory=Counter)  # status → verdicts
    days_late: Counter = field(default_factory=Counter)  # days late → late verdicts
    verdicts: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def as_dict(self) -> dict:
        return {"province": self.province, "province_name": self.province_name,
                "level": self.level, "expected": self.expected, "observed": self.observed,
                **{status: self.counts[status] for status in STATUSES},
                "days_late": {str(d): n for d, n in sorted(self.days_late.items())},
                "verdicts": {s: ids for s, ids in sorted(self.verdicts.items())}}


def place_of(region: str | None) -> tuple[str, str, str]:
    """(province code, province name, level) of a site's region code."""
    division = divisions().get(region or "")
    if division is None:
        return UNKNOWN, UNKNOWN, UNKNOWN
    province = divisions()[division.province]
    return province.code, province.name, division.level


def national_stats(engine: Engine, year: int) -> list[StatsRow]:
    """One row per (province, level) with verdicts for ``year``, in code order."""
    rows: dict[tuple[str, str], StatsRow] = {}
    query = (select(VerdictRow.id, VerdictRow.status, VerdictRow.days_late, Site.region)
             .join(Site, Site.id == VerdictRow.site_id, isouter=True)
             .where(VerdictRow.report_year == year).order_by(VerdictRow.id))
    with engine.connect() as connection:
        for verdict_id, status, days_late, region in connection.execute(query):
            province, name, level = place_of(region)
            row = rows.setdefault((province, level), StatsRow(province, name, level))
            row.expected += 1
            row.observed += status != "unobserved"
            row.counts[status] += 1
            row.verdicts[status].append(verdict_id)
            if status == "late" and days_late is not None:
                row.days_late[days_late] += 1
    order = {level: i for i, level in enumerate(("province", "prefecture", "county"))}
    return [rows[key] for key in sorted(rows, key=lambda k: (k[0], order.get(k[1], 9)))]


CSV_FIELDS = ("province", "province_name", "level", "expected", "observed", *STATUSES,
              "days_late", "verdict_ids")


def csv_values(record: dict) -> list:
    """A row of the statistic's CSV (``StatsRow.as_dict()``), in ``CSV_FIELDS`` order: days
    late as ``days:count`` pairs, and the ids of every verdict the row counts."""
    return [*(record[k] for k in CSV_FIELDS[:-2]),
            "; ".join(f"{d}:{n}" for d, n in record["days_late"].items()),
            " ".join(str(i) for ids in record["verdicts"].values() for i in ids)]
