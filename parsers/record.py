"""Assemble the canonical record (``nianbao.report/1``) from what the readers and tables saw."""

from __future__ import annotations

from nianbao.parsers.document import Document
from nianbao.parsers.metadata import Metadata, published_date, read_metadata
from nianbao.parsers.narrative import narrative_checks
from nianbao.parsers.repair import place_lost_cells
from nianbao.parsers.tables import TableReading, read_tables
from nianbao.parsers.values import normalise_text
from nianbao.vocabulary import sections
from nianbao.vocabulary.identities import identities, identity_checks
from nianbao.vocabulary.metrics import SCHEMA, metric_keys


def _base(doc: Document, meta: Metadata, source: str) -> dict:
    return {
        "schema": SCHEMA,
        "source": source,
        "title": meta.title,
        "issuer": meta.issuer,
        "report_year": meta.report_year,
        "format": "unknown",
        "published_date": published_date(meta.dates),
        "date_evidence": [d.as_dict() for d in meta.dates],
        "evidence": {"issuer": meta.issuer_source, "report_year": meta.year_source},
        "input": doc.kind,
        "sections": meta.sections,
        "metrics": {},
        "cells": {},
        "repairs": [],
        "checks": [],
        "notes": list(doc.notes),
    }


def _unknown(record: dict, reason: str) -> dict:
    record["reason"] = reason
    record["checks"] = [
        {"id": "format.recognised", "severity": "error", "ok": False, "detail": reason}
    ]
    return record


def _format(reading: TableReading, report_year: int | None) -> tuple[str, str]:
    """The format and what decided it: the tables' own labels, else the report year's rule."""
    if reading.active_format or reading.requests_format:
        return reading.active_format or reading.requests_format, "table labels"  # type: ignore
    if report_year and report_year <= 2020:
        return "2019", "report year (the visible tables are the same in both formats)"
    return "2021", "report year (the visible tables are the same in both formats)"


def _structure_checks(record: dict, reading: TableReading, fmt: str) -> list[dict]:
    checks = []
    missing_tables = [t for t in ("二", "三", "四") if t not in reading.found]
    missing_sections = [heading for key, heading in sections.HEADINGS.items()
                        if key not in record["sections"]]
    detail = "all six sections and three tables found"
    if missing_tables or missing_sections:
        detail = "missing: " + ", ".join(
            [f"table {t}" for t in missing_tables] + missing_sections
        )
    checks.append({
        "id": "format.incomplete", "severity": "warning",
        "ok": not (missing_tables or missing_sections), "detail": detail,
    })
    if record["report_year"]:
        outdated = fmt == "2019" and record["report_year"] >= 2021
        checks.append({
            "id": "format.outdated", "severity": "warning", "ok": not outdated,
            "detail": f"{record['report_year']} report in the {fmt} format"
                      + (" (the 2021 format applies from report year 2021)" if outdated else ""),
        })
    if reading.active_format and reading.requests_format and (
        reading.active_format != reading.requests_format
    ):
        checks.append({
            "id": "format.mixed", "severity": "warning", "ok": False,
            "detail": f"table 二 is in the {reading.active_format} format, "
                      f"table 三 in the {reading.requests_format} format",
        })
    if fmt == "2021" and reading.one_other_row:
        checks.append({
            "id": "format.other_in_one_row", "severity": "warning", "ok": False,
            "detail": "table 三 prints （六）其他处理 as one row (requests.other_handling.*): "
                      "its three 2021 rows cannot be told apart",
        })
    for problem in reading.problems:
        checks.append({"id": "parse.table", "severity": "warning", "ok": False,
                       "detail": problem})
    return checks


def build_record(doc: Document, source: str) -> dict:
    meta = read_metadata(doc, source)
    record = _base(doc, meta, source)
    if meta.lookalike:
        return _unknown(record, f"not an annual report: the title says it is {meta.lookalike}")
    reading = read_tables(doc)
    if not reading.found:
        return _unknown(record, "no standard tables (二 主动公开 / 三 依申请 / 四 复议诉讼) "
                                "in the document")
    fmt, record["evidence"]["format"] = _format(reading, meta.report_year)
    record["format"] = fmt
    keys = metric_keys(fmt)
    extras = [k for k in reading.cells if k.startswith("active.extra.")]
    if fmt == "2021" and reading.one_other_row:
        extras += [k for k in reading.cells if k.startswith("requests.other_handling.")]
    metrics = {k: reading.cells[k].value if k in reading.cells else None for k in keys + extras}

    placed, repairs, reasons = place_lost_cells(
        reading.lost_rows, dict(metrics), identities(fmt, reading.one_other_row)
    )
    metrics.update(placed)
    if not placed:  # no unique placement: rows printed with blank cells are read as printed
        for row in reading.lost_rows:
            if row.as_printed:
                reading.cells.update(zip(row.slots, row.as_printed, strict=True))
                metrics.update(
                    (k, v.value) for k, v in zip(row.slots, row.as_printed, strict=True)
                )
    record["metrics"] = metrics
    record["repairs"] = repairs
    for key in keys + extras:
        cell = reading.cells.get(key)
        if cell is None:
            record["cells"][key] = {"raw": None, "semantic": "MISSING"}
        elif cell.semantic not in ("NUMERIC", "ZERO") or (
            normalise_text(cell.raw or "") != str(cell.value)
        ):
            record["cells"][key] = cell.as_dict()

    checks = identity_checks(fmt, metrics)
    checks += [
        {"id": "parse.lost_cells", "severity": "error", "ok": False, "detail": r} for r in reasons
    ]
    checks += narrative_checks(meta.sections.get("overview", ""), metrics)
    checks += _structure_checks(record, reading, fmt)
    record["checks"] = checks
    return record
