"""Checks that need two records of the same issuer: year N and year N+1 (warnings).

Storage calls these when a neighbouring year exists. 结转下年度继续办理 of year N should be the
上年结转 of year N+1, per applicant column; 现行有效件数 should move by 制发 − 废止 (2021 format
only: the 2019 columns mean something else and are not compared across the format change).
"""

from __future__ import annotations

from nianbao.parsers.schema import APPLICANT_COLUMNS


def _pair(earlier: dict, later: dict) -> tuple[dict, dict]:
    years = earlier.get("report_year"), later.get("report_year")
    if all(years) and years[0] > years[1]:
        earlier, later = later, earlier
    return earlier, later


def carry_check(earlier: dict, later: dict) -> dict:
    earlier, later = _pair(earlier, later)
    a, b = earlier["metrics"], later["metrics"]
    diffs, missing = [], []
    for col in APPLICANT_COLUMNS:
        x, y = a.get(f"requests.carried_forward.{col}"), b.get(f"requests.carried_over.{col}")
        if x is None or y is None:
            missing.append(col)
        elif x != y:
            diffs.append(f"{col}: {x} → {y}")
    years = f"{earlier.get('report_year')}→{later.get('report_year')}"
    if diffs:
        detail, ok = f"{years} 结转下年度 ≠ 上年结转: " + "; ".join(diffs), False
    elif missing:
        detail, ok = f"{years} cannot compare {', '.join(missing)}: no value", False
    else:
        detail, ok = f"{years} 结转下年度 = 上年结转 in every column", True
    return {"id": "cross_year.carry", "severity": "warning", "ok": ok, "detail": detail}


def in_force_checks(earlier: dict, later: dict) -> list[dict]:
    earlier, later = _pair(earlier, later)
    if earlier.get("format") != "2021" or later.get("format") != "2021":
        return []
    a, b = earlier["metrics"], later["metrics"]
    out = []
    for kind in ("rules", "normative"):
        prev = a.get(f"active.{kind}.in_force")
        issued = b.get(f"active.{kind}.issued")
        repealed = b.get(f"active.{kind}.repealed")
        now = b.get(f"active.{kind}.in_force")
        if None in (prev, issued, repealed, now):
            continue
        expected = prev + issued - repealed
        out.append({
            "id": f"cross_year.in_force.{kind}", "severity": "warning", "ok": expected == now,
            "detail": f"{prev}+{issued}−{repealed} = {expected}"
                      + (" = " if expected == now else " ≠ ") + f"{now}",
        })
    return out


def cross_year_checks(earlier: dict, later: dict) -> list[dict]:
    return [carry_check(earlier, later), *in_force_checks(earlier, later)]
