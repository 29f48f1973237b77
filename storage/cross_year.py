"""Each report's current cross-year failed checks, kept with the report.

A report's failed checks, as ``nianbao reports`` lists them, are those of its latest version
and then those of the *current* cross-year results: the results between its latest version
and the latest version of a neighbouring year, by earlier year (``nianbao.storage.summaries``).
Finding them at listing time is a join with an OR per version, the most costly part of a
listing of 100,000 reports; so the store keeps them in ``Report.cross_year_failed`` (the
failed check ids, by earlier year, each once) in the transaction that stores a version and its
cross-year results. A new version of year Y changes which results are current for the same
issuer's reports of years Y−1, Y and Y+1, and nothing else: ``refresh_around`` recomputes those
three. ``refresh_all`` recomputes every report (the benchmark's bulk-built archive).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, union_all, update
from sqlalchemy.orm import aliased

from nianbao.storage.models import CrossYearResult, Report, Version

UPDATE_BATCH = 1000
_SET_FAILED = (update(Report).where(Report.id == bindparam("report"))
               .values(cross_year_failed=bindparam("failed")))


def latest_version_id(report_id: Any) -> Any:
    """The id of the latest version of ``report_id`` (an index seek), as a scalar subquery."""
    other = aliased(Version)
    return select(func.max(other.id)).where(other.report_id == report_id).scalar_subquery()


def _is_latest(version: Any) -> Any:
    return version.id == latest_version_id(version.report_id)


def _current(*conditions: Any) -> Any:
    """(report id, earlier year, result id, checks) of every current cross-year result, once
    for the report of each end, ordered by report, earlier year and result."""
    earlier, later = aliased(Version), aliased(Version)

    def side(end: Any) -> Any:
        return (select(end.report_id.label("report_id"), CrossYearResult.earlier_year,
                       CrossYearResult.id, CrossYearResult.checks)
                .join(earlier, earlier.id == CrossYearResult.earlier_version_id)
                .join(later, later.id == CrossYearResult.later_version_id)
                .where(_is_latest(earlier), _is_latest(later), *conditions))

    both = union_all(side(earlier), side(later)).subquery()
    return select(both).order_by(both.c.report_id, both.c.earlier_year, both.c.id)


def failed_ids(results: list[Any]) -> list[str]:
    """The failed check ids of a report's current results (in the order given), each once."""
    failed = [c["id"] for row in results for c in row.checks if not c["ok"]]
    return list(dict.fromkeys(failed))


def _by_report(rows: Any) -> Iterator[tuple[int, list[str]]]:
    for report_id, results in groupby(rows, key=lambda row: row.report_id):
        yield report_id, failed_ids(list(results))


@cache
def _around() -> tuple[Any, Any]:
    """The statements of ``refresh_around``, built at its first call (a crawl that stores no
    new version never builds them) and then reused: building them (aliases, a union of
    correlated subqueries) cost more than running them."""
    reports = select(Report.id, Report.cross_year_failed).where(
        Report.issuer_id == bindparam("issuer"),
        Report.report_year.between(bindparam("first"), bindparam("last")))
    results = _current(
        CrossYearResult.issuer_id == bindparam("issuer"),
        CrossYearResult.earlier_year.between(bindparam("first_earlier"), bindparam("last")))
    return reports, results


def refresh_around(connection: Connection, issuer_id: int, year: int) -> None:
    """Recompute ``cross_year_failed`` of the issuer's reports of ``year`` − 1, ``year`` and
    ``year`` + 1 (after a version of ``year`` and its cross-year results were stored); only a
    changed value is written."""
    around = {"issuer": issuer_id, "first": year - 1, "last": year + 1}
    reports_of, results_of = _around()
    reports = connection.execute(reports_of, around).all()
    rows = connection.execute(results_of, {**around, "first_earlier": year - 2})
    now = dict(_by_report(rows))
    changed = [{"report": report_id, "failed": now.get(report_id, [])}
               for report_id, stored in reports if (stored or []) != now.get(report_id, [])]
    if changed:
        connection.execute(_SET_FAILED, changed)


def refresh_all(connection: Connection) -> None:
    """Recompute ``cross_year_failed`` of every report (all are assumed to hold ``[]``)."""
    batch: list[dict[str, Any]] = []
    rows = connection.execute(_current(), execution_options={"yield_per": UPDATE_BATCH})
    for report_id, failed in _by_report(rows):
        if failed:
            batch.append({"report": report_id, "failed": failed})
        if len(batch) >= UPDATE_BATCH:
            connection.execute(_SET_FAILED, batch)
            batch = []
    if batch:
        connection.execute(_SET_FAILED, batch)
