"""One line per stored report, for ``nianbao reports``: what it says now and what is wrong with it.

"Now" is the latest version (the one stored last). Its failed checks are the hard (error)
identities of its own record plus the cross-year checks between it and the latest versions of
the neighbouring years; results computed against versions since superseded are not shown.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from nianbao.storage.models import CrossYearResult, Issuer, Report, Version
from nianbao.vocabulary.dates import deciding_source
from nianbao.vocabulary.figures import key_figures


def _latest_ids() -> Select[tuple[int]]:
    return select(func.max(Version.id)).group_by(Version.report_id)


def _failed_cross_year(session: Session, version_ids: list[int]) -> dict[int, list[str]]:
    """Version id → ids of failed cross-year checks against current neighbours."""
    rows = session.scalars(
        select(CrossYearResult).where(
            CrossYearResult.earlier_version_id.in_(_latest_ids()),
            CrossYearResult.later_version_id.in_(_latest_ids()),
            or_(
                CrossYearResult.earlier_version_id.in_(version_ids),
                CrossYearResult.later_version_id.in_(version_ids),
            ),
        ).order_by(CrossYearResult.earlier_year)
    )
    failed: dict[int, list[str]] = {}
    for row in rows:
        ids = [c["id"] for c in row.checks if not c["ok"]]
        for version_id in (row.earlier_version_id, row.later_version_id):
            failed.setdefault(version_id, []).extend(ids)
    return failed


def report_summaries(
    session: Session, site_id: str | None = None, year: int | None = None
) -> list[dict[str, Any]]:
    reports = select(Report.id).join(Issuer, Report.issuer_id == Issuer.id)
    if site_id is not None:
        reports = reports.where(Issuer.site_id == site_id)
    if year is not None:
        reports = reports.where(Report.report_year == year)
    stats = session.execute(
        select(
            Version.report_id, func.count(), func.min(Version.first_seen), func.max(Version.id)
        ).where(Version.report_id.in_(reports)).group_by(Version.report_id)
    ).all()
    latest_ids = [row[3] for row in stats]
    latest = {
        v.report_id: v for v in session.scalars(select(Version).where(Version.id.in_(latest_ids)))
    }
    cross_year = _failed_cross_year(session, latest_ids)
    rows = session.execute(
        select(Report, Issuer).join(Issuer, Report.issuer_id == Issuer.id)
        .where(Report.id.in_([row[0] for row in stats]))
        .order_by(Issuer.site_id, Issuer.name, Report.report_year)
    ).all()
    counts = {row[0]: (row[1], row[2]) for row in stats}
    out = []
    for report, issuer in rows:
        version, (count, first_seen) = latest[report.id], counts[report.id]
        failed = [c["id"] for c in version.checks if c["severity"] == "error" and not c["ok"]]
        failed += cross_year.get(version.id, [])
        out.append({
            "report_id": report.id,
            "site": issuer.site_id,
            "issuer": issuer.name,
            "report_year": report.report_year,
            "url": version.url,
            "first_seen": first_seen,
            "published_date": version.published_date,
            "date_source": deciding_source(version.record.get("date_evidence") or [],
                                           version.record.get("published_date")),
            "versions": count,
            "latest_version_id": version.id,
            "format": version.format,
            "failed_checks": list(dict.fromkeys(failed)),
            "key_figures": key_figures(version.record["metrics"]),
            "warc": version.warc_pointer or {
                "file": version.warc_file, "offset": version.warc_offset,
                "length": version.warc_length, "record_id": version.warc_record_id,
            },
        })
    return out
