"""Figures stated in 一、总体情况 against the tables (soft checks, severity ``warning``).

Reports often restate their key figures in prose (全年共受理政府信息公开申请 N 件，其中予以公开
N 件…). When prose and table disagree, one of them is wrong, and an auditor wants to know. Only
the first statement of each figure is compared (later mentions are often about a part, e.g. one
office's share), and a statement is read only when its keyword sits right before the number.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from nianbao.vocabulary.metrics import ORG_COLUMNS, REVIEW_GROUPS

Metrics = dict[str, object]
_GAP = r"[^。；;，,\d]{0,12}?"
_N = r"(\d+(?:\.\d+)?)\s*(件|条|个|起|宗)"


def _sum(metrics: Metrics, keys: list[str]) -> float | None:
    vals = [metrics.get(k) for k in keys]
    if not keys or any(v is None for v in vals):
        return None
    return sum(vals)  # type: ignore[arg-type]


def _rows(metrics: Metrics, prefix: str, col: str = "total") -> float | None:
    keys = [k for k in metrics if k.startswith(prefix) and k.endswith(f".{col}")]
    return _sum(metrics, keys)


# (check id, pattern, what the table says: one or more acceptable values)
Statement = tuple[str, str, Callable[[Metrics], list[float | None]]]
STATEMENTS: list[Statement] = [
    ("narrative.requests_received",
     r"(?:受理|收到|新收)" + r"[^。；;，,\d]{0,20}?申请" + _GAP + _N,
     lambda m: [m.get("requests.new.total"),
                _sum(m, ["requests.new.total", "requests.carried_over.total"])]),
    ("narrative.requests_natural", r"自然人" + r"[^。；;，,\d]{0,6}?" + _N,
     lambda m: [m.get("requests.new.natural")]),
    ("narrative.requests_org", r"法人或其他组织" + r"[^。；;，,\d]{0,6}?" + _N,
     lambda m: [_sum(m, [f"requests.new.{c}" for c in ORG_COLUMNS])]),
    ("narrative.granted", r"予以公开" + _GAP + _N, lambda m: [m.get("requests.granted.total")]),
    ("narrative.partial", r"部分公开" + _GAP + _N, lambda m: [m.get("requests.partial.total")]),
    ("narrative.withheld", r"不予公开" + _GAP + _N,
     lambda m: [_rows(m, "requests.withheld.")]),
    ("narrative.unavailable", r"无法提供" + _GAP + _N,
     lambda m: [_rows(m, "requests.unavailable.")]),
    ("narrative.not_processed", r"不予处理" + _GAP + _N,
     lambda m: [_rows(m, "requests.not_processed.")]),
    ("narrative.other_handling", r"其他处理" + _GAP + _N,
     lambda m: [_rows(m, "requests.other.") if "requests.other.other.total" in m
                else m.get("requests.other_handling.total")]),
    ("narrative.carried_forward", r"结转下年度?" + _GAP + _N,
     lambda m: [m.get("requests.carried_forward.total")]),
    ("narrative.review", r"行政复议" + _GAP + _N, lambda m: [m.get("review.total")]),
    ("narrative.litigation", r"行政诉讼" + _GAP + _N,
     lambda m: [_sum(m, [f"{g}.total" for g in REVIEW_GROUPS[1:]])]),
    ("narrative.normative_issued", r"制发" + r"[^。；;，,\d]{0,10}?规范性文件" + _GAP + _N,
     lambda m: [m.get("active.normative.issued")]),
    ("narrative.normative_in_force", r"现行有效" + r"[^。；;，,\d]{0,10}?" + _N,
     lambda m: [m.get("active.normative.in_force")]),
]

_BREAKDOWN = re.compile(
    r"(\d+)\s*(条|件)[，,]?\s*其中((?:[^。；;（(\d]{1,20}?\d+\s*\2[、，,和及]?){2,})"
)


_STATEMENT_PATTERNS = tuple(re.compile(pattern) for _, pattern, _ in STATEMENTS)
_PART = {unit: re.compile(r"(\d+)\s*" + unit) for unit in ("条", "件")}  # _BREAKDOWN's units
_SPACE = re.compile(r"\s+")


def _breakdown_checks(text: str) -> list[dict]:
    """共 N 条，其中 A 条、B 条、C 条: the parts should add up to N."""
    out = []
    for m in _BREAKDOWN.finditer(text):
        if "各" in m.group(3):  # "各1件" counts per body: the parts do not add up by design
            continue
        total = int(m.group(1))
        parts = [int(x) for x in _PART[m.group(2)].findall(m.group(3))]
        ok = sum(parts) == total
        out.append({
            "id": "narrative.breakdown", "severity": "warning", "ok": ok,
            "detail": f"“{m.group(0)[:60]}”: {'+'.join(map(str, parts))} = {sum(parts)}"
                      + (" = " if ok else " ≠ ") + str(total),
        })
    return out


def narrative_checks(overview: str, metrics: Metrics) -> list[dict]:
    text = _SPACE.sub("", overview)
    checks = []
    for (check_id, _, expected), pattern in zip(STATEMENTS, _STATEMENT_PATTERNS, strict=True):
        m = pattern.search(text)
        if not m:
            continue
        stated = float(m.group(1))
        table = [v for v in expected(metrics) if v is not None]
        if not table:
            continue
        ok = any(stated == v for v in table)
        shown = " or ".join(str(int(v)) if float(v).is_integer() else str(v) for v in table)
        checks.append({
            "id": check_id, "severity": "warning", "ok": ok,
            "detail": f"text says “{m.group(0)}”; the table says {shown}",
        })
    return checks + _breakdown_checks(text)
