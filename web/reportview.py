"""A record laid out as the printed report: tables 二, 三 and 四 with their Chinese labels.

The rows and columns come from ``nianbao.vocabulary.metrics`` (their one home), so the page
shows each figure where the document prints it; a cell the parser repaired or could not read
carries its class, so a reader sees which numbers were read and which were placed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nianbao.vocabulary.identities import identity_label
from nianbao.vocabulary.metrics import (
    ACTIVE_COLUMN_LABELS,
    APPLICANT_COLUMNS,
    APPLICANT_LABELS,
    OUTCOME_LABELS,
    OUTCOMES,
    REQUEST_GROUP_LABELS,
    REVIEW_GROUP_LABELS,
    REVIEW_GROUPS,
    active_rows,
    request_rows,
)
from nianbao.web.labels import CELL_CLASS


@dataclass(frozen=True)
class Cell:
    key: str
    value: Any
    cls: str  # the cell class, or "" when the value was read plainly
    repaired: bool

    @property
    def shown(self) -> str:
        if self.value is None:
            return "—"
        if isinstance(self.value, float) and self.value.is_integer():
            return str(int(self.value))
        return str(self.value)

    @property
    def note(self) -> str:
        parts = [CELL_CLASS.get(self.cls, self.cls)] if self.cls else []
        if self.repaired:
            parts.append("由勾稽关系补全")
        return "，".join(parts)


@dataclass(frozen=True)
class Row:
    label: str
    cells: list[Cell | None]  # None: the column does not exist for this row
    group: str = ""


@dataclass(frozen=True)
class Table:
    number: str
    title: str
    columns: list[str]
    rows: list[Row]


def _cell(record: dict[str, Any], key: str, repaired: set[str]) -> Cell:
    cell = (record.get("cells") or {}).get(key) or {}
    semantic = cell.get("semantic") or ""
    return Cell(key, (record.get("metrics") or {}).get(key),
                "" if semantic in ("NUMERIC", "ZERO") else semantic, key in repaired)


def tables(record: dict[str, Any]) -> list[Table]:
    fmt = record.get("format") or "2021"
    repaired = {r.get("key") for r in record.get("repairs") or []}
    active_columns = list(dict.fromkeys(c for spec in active_rows(fmt) for c in spec.columns))
    active_labels = [ACTIVE_COLUMN_LABELS[c] for c in active_columns]
    active = Table("二", "主动公开政府信息情况", active_labels, [
        Row(spec.label, [_cell(record, f"{spec.key}.{c}", repaired) if c in spec.columns
                         else None for c in active_columns])
        for spec in active_rows(fmt)])
    requests = []
    for spec in request_rows(fmt):
        parts = spec.key.split(".")
        group = REQUEST_GROUP_LABELS.get(parts[1], "") if len(parts) == 3 else ""
        requests.append(Row(spec.label, [_cell(record, f"{spec.key}.{c}", repaired)
                                         for c in APPLICANT_COLUMNS], group))
    outcomes = [OUTCOME_LABELS[o] for o in OUTCOMES]
    review = Table("四", "政府信息公开行政复议、行政诉讼情况", outcomes, [
        Row(REVIEW_GROUP_LABELS[g], [_cell(record, f"{g}.{o}", repaired) for o in OUTCOMES])
        for g in REVIEW_GROUPS])
    return [active, Table("三", "收到和处理政府信息公开申请情况", list(APPLICANT_LABELS), requests),
            review]


def failed_checks(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Failed checks with what they state in Chinese and the numbers that break them."""
    return [{"id": c.get("id"), "label": identity_label(str(c.get("id"))),
             "severity": c.get("severity"), "detail": c.get("detail") or ""}
            for c in checks or [] if c.get("ok") is False]
