"""What the pages and the API read, as a few indexed queries each (never a whole table).

Listings are filtered and paginated in SQL (``LIMIT``/``OFFSET`` after a ``COUNT``), so a page
of the compliance table over 100,000 verdicts costs what its 100 rows and one count cost. The
verdicts come from the ``verdicts`` table the evaluation keeps (``nianbao.storage.verdicts``),
never recomputed here; reports from their latest version's small extracts, full records only
for the one report a page shows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from nianbao.checks.compliance import STATUSES
from nianbao.storage.models import (
    CrossYearResult,
    Event,
    Issuer,
    Observation,
    Report,
    Site,
    VerdictRow,
    Version,
)
from nianbao.storage.triage import current_marks
from nianbao.vocabulary.issuers import issuer_kind, normalize_issuer
from nianbao.web.filters import Filters, Page
from nianbao.web.labels import KIND as ISSUER_KINDS

VERDICT_COLUMNS = ("id", "position", "site_id", "issuer_id", "issuer", "issuer_key", "kind",
                   "report_year", "status", "deadline", "grace_days", "published_date", "evidence",
                   "days_late", "warnings", "version_id", "url", "explanation",
                   "observation", "reasons", "as_of")


def _in_region(filters: Filters) -> list[ColumnElement[bool]]:
    """The sites of a region and of the divisions under it (GB/T 2260: 330000 is all of
    Zhejiang, 330600 Shaoxing with its counties), and of one level of government."""
    clauses: list[ColumnElement[bool]] = []
    code = filters.region
    if code and len(code) == 6 and code.isdigit() and code.endswith("00"):
        clauses.append(Site.region.like((code[:2] if code.endswith("0000") else code[:4]) + "%"))
    elif code:
        clauses.append(Site.region == code)
    if filters.level == "province":
        clauses.append(Site.region.like("__0000"))
    elif filters.level == "prefecture":
        clauses += [Site.region.like("____00"), Site.region.not_like("__0000")]
    elif filters.level == "county":
        clauses.append(Site.region.not_like("____00"))
    return clauses


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def verdict_query(filters: Filters) -> Select[Any]:
    query = select(*(getattr(VerdictRow, c) for c in VERDICT_COLUMNS), Site.region,
                   Site.name.label("site_name"), Version.report_id) \
        .outerjoin(Site, Site.id == VerdictRow.site_id) \
        .outerjoin(Version, Version.id == VerdictRow.version_id)
    return _verdict_where(query, filters)


def _verdict_where(query: Select[Any], filters: Filters) -> Select[Any]:
    query = query.where(*_in_region(filters))
    if filters.site:
        query = query.where(VerdictRow.site_id == filters.site)
    if filters.kind:
        query = query.where(VerdictRow.kind == filters.kind)
    if filters.year:
        query = query.where(VerdictRow.report_year == filters.year)
    if filters.status:
        query = query.where(VerdictRow.status == filters.status)
    if filters.issuer:
        query = query.where(VerdictRow.issuer.like(_like(filters.issuer), escape="\\"))
    return query


def count_verdicts(session: Session, filters: Filters) -> int:
    query = select(func.count()).select_from(VerdictRow)
    if filters.region or filters.level:
        query = query.join(Site, Site.id == VerdictRow.site_id)
    return session.scalar(_verdict_where(query, filters)) or 0


def verdicts(session: Session, filters: Filters, page: Page | None) -> list[dict[str, Any]]:
    """One page of verdicts (all of them with ``page`` None), each with its current triage
    mark, in the order the evaluation made them (site, then position)."""
    order = (VerdictRow.site_id, VerdictRow.position, VerdictRow.id)
    if page is None:
        query = verdict_query(filters).order_by(*order)
    else:
        # the page's ids first, from the verdicts alone (the index on site and position);
        # only its rows are joined to their site and version
        ids = select(VerdictRow.id)
        if filters.region or filters.level:
            ids = ids.join(Site, Site.id == VerdictRow.site_id)
        ids = _verdict_where(ids, filters).order_by(*order).limit(page.size).offset(page.offset)
        query = verdict_query(Filters()).where(VerdictRow.id.in_(ids.scalar_subquery())) \
            .order_by(*order)
    rows = [dict(row._mapping) for row in session.execute(query)]
    marks = current_marks(session, [(r["site_id"], r["issuer_key"], r["report_year"])
                                    for r in rows])
    for row in rows:
        row["mark"] = marks.get((row["site_id"], row["issuer_key"], row["report_year"], ""))
    return rows


def iter_verdicts(session: Session, filters: Filters, chunk: int = 2000
                  ) -> Iterator[dict[str, Any]]:
    """Every verdict of the filter, in page order, fetched ``chunk`` rows at a time (keyset
    on the page order), each with its current mark: the CSV of all rows never holds them all."""
    order = (VerdictRow.site_id, VerdictRow.position, VerdictRow.id)
    after: tuple[str, int, int] | None = None
    while True:
        query = verdict_query(filters)
        if after is not None:
            query = query.where(tuple_(*order) > after)
        rows = [dict(row._mapping) for row in session.execute(
            query.order_by(*order).limit(chunk))]
        if not rows:
            return
        marks = current_marks(session, [(r["site_id"], r["issuer_key"], r["report_year"])
                                        for r in rows])
        for row in rows:
            row["mark"] = marks.get((row["site_id"], row["issuer_key"], row["report_year"], ""))
            yield row
        last = rows[-1]
        after = (last["site_id"], last["position"], last["id"])


def verdict_years(session: Session) -> list[int]:
    """The report years that have verdicts, newest first."""
    return list(session.scalars(select(VerdictRow.report_year).distinct()
                                .order_by(VerdictRow.report_year.desc())))


def filter_choices(session: Session) -> dict[str, list[Any]]:
    """The values each filter may take (small DISTINCTs over indexed columns)."""
    return {
        "regions": sorted(r for r in session.scalars(select(Site.region).distinct()) if r),
        "sites": list(session.execute(select(Site.id, Site.name).order_by(Site.id))),
        "kinds": list(ISSUER_KINDS),  # a fixed vocabulary: no scan of the verdicts for it
        "years": sorted(session.scalars(select(VerdictRow.report_year).distinct()),
                        reverse=True),
        "statuses": list(STATUSES),
    }


# Overview --------------------------------------------------------------------------------

def overview(session: Session) -> dict[str, Any]:
    """Sites with their last observation and coverage; verdict counts by year and status;
    the data of the two charts."""
    last_obs = (select(Observation.site_id, func.max(Observation.id).label("id"))
                .group_by(Observation.site_id).subquery())
    observed = {o.site_id: o for o in session.scalars(
        select(Observation).join(last_obs, last_obs.c.id == Observation.id))}
    reports = dict(session.execute(
        select(Issuer.site_id, func.count(Report.id)).join(Report, Report.issuer_id == Issuer.id)
        .group_by(Issuer.site_id)).all())
    per_site: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_year: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_region_year: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    regions = dict(session.execute(select(Site.id, Site.region)).all())
    for site_id, year, status, n in session.execute(
            select(VerdictRow.site_id, VerdictRow.report_year, VerdictRow.status, func.count())
            .group_by(VerdictRow.site_id, VerdictRow.report_year, VerdictRow.status)):
        per_site[site_id][status] += n
        by_year[year][status] += n
        by_region_year[(regions.get(site_id) or "—", year)][status] += n
    sites = []
    for site in session.scalars(select(Site).order_by(Site.id)):
        counts = per_site.get(site.id, {})
        expected = sum(counts.values())
        found = counts.get("on_time", 0) + counts.get("late", 0) + counts.get("undated", 0)
        sites.append({"id": site.id, "name": site.name, "region": site.region,
                      "observation": observed.get(site.id), "reports": reports.get(site.id, 0),
                      "expected": expected, "found": found, "counts": dict(counts)})
    return {"sites": sites, "by_year": {y: dict(c) for y, c in sorted(by_year.items())},
            "by_region_year": {k: dict(v) for k, v in sorted(by_region_year.items())},
            "offsets": _publication_offsets(session)}


def _publication_offsets(session: Session, limit: int = 5000) -> list[tuple[int, int]]:
    """(report year, days from deadline to publication) of dated verdicts: negative is early."""
    out = []
    for year, published, deadline in session.execute(
            select(VerdictRow.report_year, VerdictRow.published_date, VerdictRow.deadline)
            .where(VerdictRow.published_date.is_not(None)).limit(limit)):
        out.append((year, (published - deadline).days))
    return out


# Reports ---------------------------------------------------------------------------------

def _latest(report_id: Any) -> Any:
    other = aliased(Version)
    return select(func.max(other.id)).where(other.report_id == report_id).scalar_subquery()


def _report_where(query: Select[Any], filters: Filters) -> Select[Any]:
    """The filters a report or version listing shares (its query joins Issuer, Report, Site)."""
    query = query.where(*_in_region(filters))
    if filters.site:
        query = query.where(Issuer.site_id == filters.site)
    if filters.year:
        query = query.where(Report.report_year == filters.year)
    if filters.issuer:
        query = query.where(Issuer.name.like(_like(filters.issuer), escape="\\"))
    return query


def report_query(filters: Filters) -> Select[Any]:
    query = (select(Report.id.label("report_id"), Issuer.id.label("issuer_id"),
                    Issuer.name.label("issuer"), Issuer.kind.label("issuer_kind"),
                    Issuer.site_id, Site.region, Report.report_year, Version.id.label(
                        "version_id"), Version.format, Version.title, Version.url,
                    Version.published_date, Version.date_source, Version.key_figures,
                    Version.failed_checks, Version.first_seen)
             .join(Issuer, Issuer.id == Report.issuer_id)
             .outerjoin(Site, Site.id == Issuer.site_id)
             .join(Version, Version.id == _latest(Report.id)))
    query = _report_where(query, filters)
    if filters.report_format:
        query = query.where(Version.format == filters.report_format)
    return query


def reports(session: Session, filters: Filters, page: Page) -> tuple[int, list[dict[str, Any]]]:
    query = report_query(filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Issuer.site_id, Issuer.name, Report.report_year)
                           .limit(page.size).offset(page.offset))
    out = []
    for row in rows:
        item = dict(row._mapping)
        item["issuer_kind"] = issuer_kind(item["issuer"], item["issuer_kind"])
        out.append(item)
    return total, out


def report(session: Session, report_id: int) -> dict[str, Any] | None:
    row = session.execute(select(Report, Issuer, Site).join(Issuer, Issuer.id == Report.issuer_id)
                          .outerjoin(Site, Site.id == Issuer.site_id)
                          .where(Report.id == report_id)).first()
    if row is None:
        return None
    rep, issuer, site = row
    versions = list(session.scalars(select(Version).where(Version.report_id == report_id)
                                    .order_by(Version.id)))
    return {"report": rep, "issuer": issuer, "site": site, "versions": versions,
            "kind": issuer_kind(issuer.name, issuer.kind)}


def cross_year(session: Session, version_id: int) -> list[CrossYearResult]:
    return list(session.scalars(select(CrossYearResult).where(or_(
        CrossYearResult.earlier_version_id == version_id,
        CrossYearResult.later_version_id == version_id)).order_by(CrossYearResult.earlier_year)))


def verdict_of(session: Session, site_id: str | None, issuer: str, year: int
               ) -> VerdictRow | None:
    if site_id is None:
        return None
    return session.scalar(select(VerdictRow).where(
        VerdictRow.site_id == site_id, VerdictRow.issuer_key == normalize_issuer(issuer),
        VerdictRow.report_year == year))


def issuer_years(session: Session, issuer_id: int) -> tuple[Issuer | None, list[dict[str, Any]]]:
    issuer = session.get(Issuer, issuer_id)
    if issuer is None:
        return None, []
    rows = session.execute(
        select(Report.id, Report.report_year, Version.id, Version.format, Version.key_figures,
               Version.published_date, Version.failed_checks)
        .join(Version, Version.id == _latest(Report.id))
        .where(Report.issuer_id == issuer_id).order_by(Report.report_year))
    return issuer, [{"report_id": r, "report_year": y, "version_id": v, "format": f,
                     "key_figures": k or {}, "published_date": p, "failed_checks": c or []}
                    for r, y, v, f, k, p, c in rows]


def issuer_cross_year(session: Session, issuer_id: int) -> list[CrossYearResult]:
    latest = select(func.max(Version.id)).group_by(Version.report_id)
    return list(session.scalars(select(CrossYearResult).where(
        CrossYearResult.issuer_id == issuer_id,
        CrossYearResult.later_version_id.in_(latest),
        CrossYearResult.earlier_version_id.in_(latest)).order_by(CrossYearResult.earlier_year)))


# Versions, events, sites -----------------------------------------------------------------

def versions(session: Session, filters: Filters, page: Page) -> tuple[int, list[dict[str, Any]]]:
    query = (select(Version.id, Version.report_id, Issuer.name.label("issuer"), Issuer.site_id,
                    Report.report_year, Version.kind, Version.url, Version.format,
                    Version.title, Version.first_seen, Version.last_seen,
                    Version.published_date, Version.content_hash, Version.payload_digest,
                    Version.previous_version_id, Version.warc_pointer)
             .join(Report, Report.id == Version.report_id)
             .join(Issuer, Issuer.id == Report.issuer_id)
             .outerjoin(Site, Site.id == Issuer.site_id))
    query = _report_where(query, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Version.id.desc()).limit(page.size)
                           .offset(page.offset))
    return total, [dict(r._mapping) for r in rows]


def events(session: Session, filters: Filters, page: Page) -> tuple[int, list[Event]]:
    query = select(Event).outerjoin(Site, Site.id == Event.site_id)
    query = query.where(*_in_region(filters))
    if filters.site:
        query = query.where(Event.site_id == filters.site)
    if filters.year:
        query = query.where(Event.report_year == filters.year)
    if filters.event_kind:
        query = query.where(Event.kind == filters.event_kind)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Event.id.desc()).limit(page.size).offset(page.offset))
    return total, list(rows)


def sites(session: Session, filters: Filters) -> list[Site]:
    query = select(Site).order_by(Site.id)
    query = query.where(*_in_region(filters))
    if filters.site:
        query = query.where(Site.id == filters.site)
    return list(session.scalars(query))

