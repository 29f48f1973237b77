"""The accounting identities (勾稽关系) the standard formats define, as data and as checks.

Within one record: the identity list drives two things, :mod:`nianbao.parsers.repair` (which may
use it to place a cell lost in extraction) and the ``error`` checks every record carries. A check
over a ``null`` cell fails and says which cell is missing: an unread figure never passes an
identity.

Across years (warnings; storage runs them when a neighbouring year exists): 结转下年度继续办理 of
year N should be the 上年结转 of year N+1, per applicant column; 现行有效件数 should move by
制发 − 废止 (2021 format only: the 2019 columns mean something else and are not compared across
the format change).
"""

from __future__ import annotations

from functools import cache

from nianbao.vocabulary.metrics import (
    APPLICANT_COLUMNS,
    ORG_COLUMNS,
    OUTCOMES,
    REVIEW_GROUPS,
    SIGNED_COLUMNS,
    request_rows,
    result_rows,
)

Identity = tuple[str, list[str], list[str]]


def request_identities(fmt: str, one_other_row: bool = False) -> list[Identity]:
    """``one_other_row``: a 2021 table 三 printing （六）其他处理 as one row (as the 2019 format
    did) instead of its three sub-rows; that row then stands for the three in the sums."""
    rows = [r.key for r in request_rows(fmt)]
    results = result_rows(fmt)
    if one_other_row:
        rows = [r for r in rows if not r.startswith("requests.other.")]
        results = [r for r in results if not r.startswith("requests.other.")]
        rows.append("requests.other_handling")
        results.append("requests.other_handling")
    out: list[Identity] = []
    for col in APPLICANT_COLUMNS:
        out.append((
            f"requests.balance.{col}",
            [f"requests.new.{col}", f"requests.carried_over.{col}"],
            [f"requests.handled_total.{col}", f"requests.carried_forward.{col}"],
        ))
        out.append((
            f"requests.handled.{col}",
            [f"requests.handled_total.{col}"],
            [f"{r}.{col}" for r in results],
        ))
    for row in rows:
        short = row.removeprefix("requests.")
        out.append((
            f"requests.row_total.{short}",
            [f"{row}.total"],
            [f"{row}.natural"] + [f"{row}.{c}" for c in ORG_COLUMNS],
        ))
    return out


def review_identities() -> list[Identity]:
    return [
        (f"{g}.total", [f"{g}.total"], [f"{g}.{o}" for o in OUTCOMES[:4]]) for g in REVIEW_GROUPS
    ]


@cache
def identities(fmt: str, one_other_row: bool = False) -> tuple[Identity, ...]:
    """Every identity of the format, built once per format and layout (every record is
    checked)."""
    return (*request_identities(fmt, one_other_row), *review_identities())


def _fmt_num(v: float | int) -> str:
    if type(v) is int:  # most figures: no float round trip
        return str(v)
    return str(int(v)) if float(v).is_integer() else str(v)


def run_identity(identity: Identity, metrics: dict[str, object]) -> dict:
    check_id, left, right = identity
    get = metrics.get
    lvals = [get(k) for k in left]
    rvals = [get(k) for k in right]
    if None in lvals or None in rvals:
        missing = [k for k in left + right if get(k) is None]
        shown = ", ".join(missing[:4]) + (" …" if len(missing) > 4 else "")
        return {"id": check_id, "severity": "error", "ok": False,
                "detail": f"cannot verify: no value for {shown}"}
    lsum = sum(lvals)  # type: ignore[arg-type]
    rsum = sum(rvals)  # type: ignore[arg-type]
    detail = (
        "+".join(map(_fmt_num, lvals))  # type: ignore[arg-type]
        + (" = " if lsum == rsum else " ≠ ")
        + "+".join(map(_fmt_num, rvals))  # type: ignore[arg-type]
    )
    return {"id": check_id, "severity": "error", "ok": lsum == rsum, "detail": detail}


def non_negative(metrics: dict[str, object]) -> dict:
    bad = [
        f"{k}={v}" for k, v in metrics.items()
        if isinstance(v, int | float) and v < 0 and k.rsplit(".", 1)[-1] not in SIGNED_COLUMNS
    ]
    return {"id": "values.non_negative", "severity": "error", "ok": not bad,
            "detail": "all counts ≥ 0" if not bad else "negative: " + ", ".join(bad[:5])}


def one_other_row(fmt: str, metrics: dict[str, object]) -> bool:
    """Whether a 2021 record carries table 三's （六）其他处理 as a single row."""
    return fmt == "2021" and "requests.other_handling.total" in metrics


def identity_checks(fmt: str, metrics: dict[str, object]) -> list[dict]:
    checks = [run_identity(i, metrics) for i in identities(fmt, one_other_row(fmt, metrics))]
    checks.append(non_negative(metrics))
    return checks


# Across years -------------------------------------------------------------------------------


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


# What each identity says, in Chinese, for a reader of a failure ---------------------------------

# By check id (or id prefix, followed by the column or row it was checked on).
IDENTITY_LABELS = {
    "requests.balance": "一+二 = 三（七）+四（申请数量平衡）",
    "requests.handled": "三（七）总计 = 各项办理结果之和",
    "requests.row_total": "总计 = 六类申请人之和",
    "review.total": "行政复议总计 = 四项结果之和",
    "litigation.direct.total": "未经复议直接起诉总计 = 四项结果之和",
    "litigation.after_review.total": "复议后起诉总计 = 四项结果之和",
    "values.non_negative": "数值不得为负",
    "cross_year.carry": "本年结转下年度 = 次年上年结转",
    "cross_year.in_force": "现行有效件数 = 上年现行有效 + 本年制发 − 本年废止",
}


def identity_label(check_id: str) -> str:
    """What a check states, with the column or row it was run on — 总计 = 六类申请人之和
    （本年新收政府信息公开申请数量）; an unknown id is shown as itself."""
    from nianbao.vocabulary.metrics import COLUMN_LABELS, label

    for prefix, text in IDENTITY_LABELS.items():
        if check_id == prefix:
            return text
        if check_id.startswith(prefix + "."):
            part = check_id[len(prefix) + 1:]
            if part in COLUMN_LABELS:
                return f"{text}（{COLUMN_LABELS[part]}）"
            row = label(f"requests.{part}.total").removesuffix("（总计）")
            return f"{text}（{row}）"
    return check_id
