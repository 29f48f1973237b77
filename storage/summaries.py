"""One line per stored report, for ``nianbao reports``: what it says now and what is wrong with it.

"Now" is the latest version (the one stored last). Its failed checks are the hard (error)
identities of its own record plus the cross-year checks between it and the latest versions of
the neighbouring years; results computed against versions since superseded are not shown.

Both listings are one streamed query each, ordered by site, issuer name, issuer and year:
they read the small extracts stored with each version (``Version.key_figures``,
``failed_checks``, ``date_source``), never full records, and hold one report at a time, so
100,000 reports cost what their rows cost, on SQLite and PostgreSQL alike. (Two issuers of one
site with the same name are listed one after the other, each with its years.)
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby
from typing import Any

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from nianbao.storage.cross_year import latest_version_id
from nianbao.storage.models import CrossYearResult, Issuer, Report, Version
from nianbao.storage.report_rows import listed_failed

STREAM_ROWS = 2000


def _current_cross_year(version_id: Any) -> Any:
    """The join condition of the cross-year results between ``version_id`` and the latest
    version of a neighbouring year (the latest ids are computed once per query)."""
    other_id = case((CrossYearResult.earlier_version_id == version_id,
                     CrossYearResult.later_version_id),
                    else_=CrossYearResult.earlier_version_id)
    latest = select(func.max(Version.id)).group_by(Version.report_id)
    return and_(
        or_(CrossYearResult.earlier_version_id == version_id,
            CrossYearResult.later_version_id == version_id),
        other_id.in_(latest),
    )


def _filtered(query: Any, site_id: str | None, year: int | None) -> Any:
    if site_id is not None:
        query = query.where(Issuer.site_id == site_id)
    if year is not None:
        query = query.where(Report.report_year == year)
    return query


def _stream(session: Session, query: Any) -> Iterator[Any]:
    """Core rows, fetched ``STREAM_ROWS`` at a time (a server-side cursor on PostgreSQL).

    PostgreSQL's estimate of the cross-year join is large enough to have each listing
    JIT-compiled, which costs more (0.2–0.5 s) than the listing's own work: not here."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL jit = off")
    # yield_per for this statement only: set on the connection it would stay, and the next
    # statement (a second listing's SET LOCAL) would be sent as a server-side cursor
    return connection.execute(query, execution_options={"yield_per": STREAM_ROWS})


def report_summaries(session: Session, site_id: str | None = None, year: int | None = None,
                     warc: bool = True) -> Iterator[dict[str, Any]]:
    """One summary per report (see the module docstring), streamed; without ``warc`` (where
    the archived copy is), which a table or CSV does not show, when ``warc`` is false.

    Every version of each report is read, oldest first (a report has one or two), so the
    count, the first sighting and the latest version come from one pass with no subquery per
    report. On SQLite the rows come in the indexes' order — issuers by site and name, their
    reports by year, the versions from the index that holds their listed columns — so nothing
    is sorted and no record is touched. The current cross-year failed checks are the report's
    own column (``Report.cross_year_failed``, kept by the store): no cross-year join."""
    archived = (Version.warc_pointer, Version.warc_file, Version.warc_offset,
                Version.warc_length, Version.warc_record_id) if warc else ()
    query = _filtered(
        select(Report.id, Issuer.site_id, Issuer.name, Report.report_year, Version.id,
               Version.url, Version.published_date, Version.date_source, Version.format,
               Version.failed_checks, Version.key_figures, Version.first_seen,
               Report.cross_year_failed, *archived)
        .select_from(Issuer)
        .join(Report, Report.issuer_id == Issuer.id)
        .join(Version, Version.report_id == Report.id)
        .with_hint(Issuer, "INDEXED BY ix_issuers_site_id_name", "sqlite")
        .with_hint(Version, "INDEXED BY ix_versions_listing", "sqlite"), site_id, year,
    ).order_by(Issuer.site_id, Issuer.name, Issuer.id, Report.report_year, Version.id)
    for _, group in groupby(_stream(session, query), key=lambda row: row[0]):
        rows = list(group)
        last = rows[-1]  # of the latest version
        (report_id, site, issuer, report_year, version_id, url, published, date_source, fmt,
         failed, figures, _, cross) = last[:13]
        summary = {
            "report_id": report_id, "site": site, "issuer": issuer,
            "report_year": report_year, "url": url,
            "first_seen": last[11] if len(rows) == 1 else min(row[11] for row in rows),
            "published_date": published, "date_source": date_source,
            "versions": len(rows), "latest_version_id": version_id, "format": fmt,
            "failed_checks": listed_failed(failed, cross),
            "key_figures": dict(figures or {}),
        }
        if warc:
            pointer, warc_file, warc_offset, warc_length, record_id = last[13:]
            summary["warc"] = pointer or {"file": warc_file, "offset": warc_offset,
                                          "length": warc_length, "record_id": record_id}
        yield summary


def identity_failures(session: Session, site_id: str | None = None,
                      year: int | None = None) -> Iterator[dict[str, Any]]:
    """Every failed identity of the latest version of each report, with the numbers that
    break it (``detail``, e.g. ``61+0 ≠ 51+0``), its own and the cross-year ones, streamed."""
    own = _filtered(
        select(Issuer.site_id, Issuer.name, Report.report_year, Version.id, Version.url,
               Version.checks)
        .join(Issuer, Report.issuer_id == Issuer.id)
        .join(Version, Version.id == latest_version_id(Report.id))
        .where(cast(Version.failed_checks, String) != "[]"), site_id, year,
    ).order_by(Issuer.site_id, Issuer.name, Report.report_year)
    for site, issuer, report_year, version_id, url, checks in _stream(session, own):
        for check in checks:
            if check.get("severity") == "error" and check.get("ok") is False:
                yield {"site": site, "issuer": issuer, "report_year": report_year,
                       "version_id": version_id, "url": url, "check": check.get("id"),
                       "severity": "error", "detail": check.get("detail") or ""}
    joined = _current_cross_year(Version.id)
    cross = _filtered(
        select(Issuer.site_id, Issuer.name, Report.report_year, Version.id, Version.url,
               CrossYearResult.earlier_year, CrossYearResult.later_year, CrossYearResult.checks)
        .join(Issuer, Report.issuer_id == Issuer.id)
        .join(Version, Version.id == latest_version_id(Report.id))
        .join(CrossYearResult, and_(joined, CrossYearResult.later_version_id == Version.id)),
        site_id, year,
    ).order_by(Issuer.site_id, Issuer.name, Report.report_year)
    for site, issuer, report_year, version_id, url, earlier, later, checks in _stream(
            session, cross):
        for check in checks:
            if check.get("ok") is False:
                yield {"site": site, "issuer": issuer, "report_year": report_year,
                       "version_id": version_id, "url": url, "check": check.get("id"),
                       "severity": check.get("severity") or "warning",
                       "detail": f"{earlier}→{later}: {check.get('detail') or ''}"}
