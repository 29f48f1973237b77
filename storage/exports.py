"""Exports a researcher loads in one line of pandas: long form and wide form, CSV / JSON Lines
/ Parquet, of the latest version of every report.

*Long form*: one row per report × metric — every standard metric key of the report's format
(docs/report-schema.md; 200 keys for 2021, 198 for 2019) and any locality row
(``active.extra.*``) the report has — with the issuer, the site's 行政区划代码, the issuer
kind, year, format, the metric key, its Chinese table/row/column labels, its value and the
cell's class (``NUMERIC``, ``ZERO``, ``EMPTY``, ``NA``, ``TEXT``, ``MISSING``: the parser's
where it recorded one, else ``NUMERIC``/``ZERO``/``EMPTY`` from the value).

*Wide form*: one row per report of one format, one column per metric key of that format, so
two formats never share a column that means different things.

Rows are streamed from the database (a few thousand at a time); the writers stream too, except
Parquet, which is written a batch of rows at a time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, aliased

from nianbao.escaping import csv_cell
from nianbao.storage.models import Issuer, Report, Site, Version
from nianbao.vocabulary.issuers import issuer_kind
from nianbao.vocabulary.metrics import metric_keys, metric_label

FORMATS = ("csv", "jsonl", "parquet")
SHAPES = ("long", "wide")
STREAM_ROWS = 500
PARQUET_BATCH = 20_000
REPORT_COLUMNS = ["report_id", "version_id", "site_id", "region", "issuer", "issuer_kind",
                  "report_year", "format", "title", "url", "published_date"]
LONG_COLUMNS = [*REPORT_COLUMNS, "metric", "table_no", "row_label", "column_label", "value",
                "cell_class"]


@dataclass(frozen=True)
class ExportFilter:
    site_id: str | None = None
    region: str | None = None
    year: int | None = None
    report_format: str | None = None


def _reports(session: Session, where: ExportFilter) -> Iterator[tuple[dict[str, Any], dict]]:
    """(report columns, record) of each report's latest version, streamed in report order."""
    other = aliased(Version)
    latest = select(func.max(other.id)).where(other.report_id == Report.id).scalar_subquery()
    query = (select(Report.id, Version.id, Issuer.site_id, Site.region, Issuer.name, Issuer.kind,
                    Report.report_year, Version.format, Version.title, Version.url,
                    Version.published_date, Version.record)
             .join(Issuer, Issuer.id == Report.issuer_id)
             .outerjoin(Site, Site.id == Issuer.site_id)
             .join(Version, Version.id == latest)
             .order_by(Report.id))
    if where.site_id:
        query = query.where(Issuer.site_id == where.site_id)
    if where.region:
        query = query.where(Site.region == where.region)
    if where.year:
        query = query.where(Report.report_year == where.year)
    if where.report_format:
        query = query.where(Version.format == where.report_format)
    connection = session.connection().execution_options(yield_per=STREAM_ROWS)
    for (report_id, version_id, site_id, region, name, kind, year, fmt, title, url, published,
         record) in connection.execute(query):
        yield {"report_id": report_id, "version_id": version_id, "site_id": site_id,
               "region": region, "issuer": name, "issuer_kind": issuer_kind(name, kind),
               "report_year": year, "format": fmt, "title": title, "url": url,
               "published_date": published.isoformat() if published else None}, record


def report_metric_keys(record: dict[str, Any]) -> list[str]:
    """The keys a report has rows for: its format's standard keys, then its locality rows."""
    keys = metric_keys(record.get("format") or "2021")
    standard = set(keys)
    extra = sorted(k for k in record.get("metrics") or {} if k not in standard
                   and k.startswith("active.extra."))
    return keys + extra


def cell_class(record: dict[str, Any], key: str) -> str:
    cell = (record.get("cells") or {}).get(key) or {}
    if cell.get("semantic"):
        return str(cell["semantic"])
    value = (record.get("metrics") or {}).get(key)
    if value is None:
        return "EMPTY"
    return "ZERO" if value == 0 else "NUMERIC"


def long_rows(engine: Engine, where: ExportFilter = ExportFilter()) -> Iterator[dict[str, Any]]:
    labels: dict[str, tuple[str, str, str]] = {}
    with Session(engine) as session:
        for report, record in _reports(session, where):
            metrics = record.get("metrics") or {}
            for key in report_metric_keys(record):
                if key not in labels:
                    found = metric_label(key)
                    labels[key] = ((found.table, found.row, found.column) if found
                                   else ("", key, ""))
                table_no, row_label, column_label = labels[key]
                yield {**report, "metric": key, "table_no": table_no, "row_label": row_label,
                       "column_label": column_label, "value": metrics.get(key),
                       "cell_class": cell_class(record, key)}


def wide_columns(report_format: str) -> list[str]:
    return [*REPORT_COLUMNS, *metric_keys(report_format)]


def wide_rows(engine: Engine, report_format: str,
              where: ExportFilter = ExportFilter()) -> Iterator[dict[str, Any]]:
    """One row per report of ``report_format`` (its standard keys as columns)."""
    keys = metric_keys(report_format)
    scoped = ExportFilter(where.site_id, where.region, where.year, report_format)
    with Session(engine) as session:
        for report, record in _reports(session, scoped):
            metrics = record.get("metrics") or {}
            yield {**report, **{key: metrics.get(key) for key in keys}}


# Writers -----------------------------------------------------------------------------------

def write_csv(rows: Iterable[dict[str, Any]], columns: list[str], out: IO[str],
              header: bool = True) -> int:
    """UTF-8 CSV (the caller opens ``out`` with ``encoding="utf-8-sig"`` for Excel users).

    A cell starting with ``= + - @`` (tab, CR) is prefixed with ``'`` so a spreadsheet never
    runs a formula a hostile report title carries; numbers are written as numbers."""
    writer = csv.DictWriter(out, columns, extrasaction="ignore")
    if header:
        writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow({k: csv_cell(v) for k, v in row.items()})
        n += 1
    return n


def write_jsonl(rows: Iterable[dict[str, Any]], out: IO[bytes]) -> int:
    n = 0
    for row in rows:
        out.write(orjson.dumps(row) + b"\n")
        n += 1
    return n


def write_parquet(rows: Iterable[dict[str, Any]], columns: list[str], out: Path | IO[bytes],
                  numeric: Iterable[str] = ()) -> int:
    """Parquet with a fixed schema: text columns as strings, ``numeric`` ones as doubles
    (a metric may be 12 or 3.5), ids and years as integers."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    numeric = set(numeric)
    integers = {"report_id", "version_id", "report_year"}
    schema = pa.schema([(name, pa.float64() if name in numeric else
                         pa.int64() if name in integers else pa.string()) for name in columns])
    n = 0
    with pq.ParquetWriter(out, schema) as writer:
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= PARQUET_BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                n += len(batch)
                batch = []
        writer.write_table(pa.Table.from_pylist(batch, schema=schema))
        n += len(batch)
    return n


def export(engine: Engine, shape: str, fmt: str, out: IO[bytes],
           where: ExportFilter = ExportFilter(), report_format: str = "2021") -> int:
    """Write one export to the binary stream ``out``; how many rows."""
    if shape not in SHAPES or fmt not in FORMATS:
        raise ValueError(f"unknown export {shape}/{fmt}")
    if shape == "long":
        rows, columns, numeric = long_rows(engine, where), LONG_COLUMNS, ["value"]
    else:
        rows = wide_rows(engine, report_format, where)
        columns, numeric = wide_columns(report_format), metric_keys(report_format)
    if fmt == "jsonl":
        return write_jsonl(rows, out)
    if fmt == "parquet":
        return write_parquet(rows, columns, out, numeric)
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        return write_csv(rows, columns, text)
    finally:
        text.flush()
        text.detach()
