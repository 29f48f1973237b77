"""``nianbao stats`` on SQLite: counts of the stored verdicts, by province and level."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from nianbao.checks.stats import national_stats, place_of
from nianbao.storage.db import connect, migrate
from nianbao.storage.models import Site, VerdictRow

ROOT = Path(__file__).resolve().parents[1]


def verdict(site: str, issuer: str, status: str, days_late: int | None = None) -> VerdictRow:
    return VerdictRow(site_id=site, issuer=issuer, issuer_key=issuer, kind="department",
                      report_year=2023, status=status, deadline=date(2024, 1, 31),
                      evidence="pubdate-meta", days_late=days_late, as_of=date(2026, 11, 30))


def test_stats_count_the_verdicts_by_province_and_level(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = connect(url)
    migrate(engine)
    with Session(engine) as session:
        session.add_all([Site(id="hz", name="杭州市人民政府", region="330100"),
                         Site(id="xh", name="西湖区人民政府", region="330106"),
                         Site(id="odd", name="无代码", region=None)])
        session.flush()
        session.add_all([verdict("hz", "a", "on_time"), verdict("hz", "b", "late", 3),
                         verdict("hz", "c", "late", 3), verdict("hz", "d", "unobserved"),
                         verdict("xh", "a", "missing"), verdict("odd", "a", "late", 10)])
        session.commit()
    rows = {(r.province, r.level): r.as_dict() for r in national_stats(engine, 2023)}
    assert set(rows) == {("330000", "prefecture"), ("330000", "county"),
                         ("unknown", "unknown")}
    hz = rows[("330000", "prefecture")]
    assert (hz["expected"], hz["observed"], hz["on_time"], hz["late"], hz["unobserved"]) == (
        4, 3, 1, 2, 1)
    assert hz["days_late"] == {"3": 2}
    assert len(hz["verdicts"]["late"]) == 2
    assert rows[("330000", "county")]["missing"] == 1
    assert national_stats(engine, 2022) == []
    assert place_of("330106") == ("330000", "浙江省", "county")

    done = subprocess.run([sys.executable, "-m", "nianbao.commands.cli", "stats", "--db", url,
                           "--year", "2023", "--json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert json.loads(done.stdout)["rows"][0]["province"] == "330000"
    missing = subprocess.run([sys.executable, "-m", "nianbao.commands.cli", "stats", "--db",
                              f"sqlite:///{tmp_path / 'none.sqlite'}", "--year", "2023"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert not (tmp_path / "none.sqlite").exists()
