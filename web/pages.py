"""The pages that read: overview, compliance, reports, diff, archived copy, issuer, events,
the national statistic, feeds, and the downloads (CSV of a page, exports, WACZ). Writes are
in ``web.writes``."""

from __future__ import annotations

import csv
import io
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import Route

from nianbao.archive.wacz import write_wacz
from nianbao.checks.stats import CSV_FIELDS as STATS_CSV_FIELDS
from nianbao.checks.stats import csv_values as stats_csv_values
from nianbao.checks.stats import national_stats
from nianbao.escaping import csv_row
from nianbao.notify.events import event_dict
from nianbao.notify.feeds import render_feed, site_feed, subscription_feed
from nianbao.notify.messages import event_body, event_title
from nianbao.notify.subscriptions import get_subscription
from nianbao.storage import triage
from nianbao.storage.exports import FORMATS, SHAPES, ExportFilter, export, write_csv
from nianbao.storage.models import Event, Site, Version
from nianbao.vocabulary.figures import KEY_FIGURES, RATES, percent
from nianbao.vocabulary.issuers import normalize_issuer
from nianbao.web import charts, queries
from nianbao.web.diff import figure_changes, text_changes
from nianbao.web.filters import BadParameter, parse_filters
from nianbao.web.labels import EVENT_KIND, STATUS
from nianbao.web.render import engine, int_path, page_of, render, wants_csv
from nianbao.web.replay import SANDBOX_CSP, ArchiveIntegrityError, load_capture, served_type
from nianbao.web.reportview import failed_checks, tables

COMPLIANCE_COLUMNS = [("site_id", "网站"), ("region", "行政区划代码"), ("issuer", "发布机关"),
                      ("kind", "机关类型"), ("report_year", "年度"), ("status", "结论"),
                      ("deadline", "截止日期"), ("published_date", "发布日期"),
                      ("days_late", "逾期天数"), ("evidence", "日期依据"),
                      ("observation", "观察"), ("url", "报告网址"), ("mark", "复核")]


# Overview and compliance -------------------------------------------------------------------

def overview(request: Request) -> Response:
    with Session(engine(request)) as session:
        data = queries.overview(session)
    groups = {f"{region} · {year}": counts
              for (region, year), counts in data["by_region_year"].items()}
    return render(request, "overview.html", {
        **data,
        "chart_regions": charts.stacked_bars("各地区、各年度的结论", groups, STATUS),
        "chart_offsets": charts.offsets_strip("发布日期与截止日期之差", data["offsets"]),
        "statuses": list(STATUS),
    })


def compliance(request: Request) -> Response:
    filters = parse_filters(request.query_params)
    page = page_of(request)
    if wants_csv(request) and request.query_params.get("all") == "1":
        return _csv_stream(engine(request), filters)
    with Session(engine(request)) as session:
        total = queries.count_verdicts(session, filters)
        rows = queries.verdicts(session, filters, page)
        choices = queries.filter_choices(session) if not wants_csv(request) else {}
    if wants_csv(request):
        return _csv_response(rows, "compliance.csv")
    return render(request, "compliance.html", {
        "rows": rows, "total": total, "filters": filters, "page": page, "choices": choices,
        "pages": max(1, -(-total // page.size)), "marks": triage.STATUSES})


def _csv_value(row: dict[str, Any], key: str) -> Any:
    value = row.get(key)
    if key == "status":
        return STATUS.get(value, value)
    if key == "mark":
        return f"{value.status_label} {value.user} {value.note}".strip() if value else ""
    return value


def _csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The compliance CSV, a few hundred rows per chunk (BOM first: Excel then reads UTF-8)."""
    columns = [label for _, label in COMPLIANCE_COLUMNS]
    buffer = io.StringIO()
    buffer.write("\ufeff")
    batch: list[dict[str, Any]] = []
    header = True
    for row in rows:
        batch.append({label: _csv_value(row, key) for key, label in COMPLIANCE_COLUMNS})
        if len(batch) == 500:
            write_csv(batch, columns, buffer, header)
            header = False
            batch = []
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    write_csv(batch, columns, buffer, header)
    yield buffer.getvalue().encode("utf-8")


def _csv_response(rows: list[dict[str, Any]], name: str) -> Response:
    return Response(b"".join(_csv_lines(rows)), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _csv_stream(engine: Engine, filters: Any) -> Response:
    def lines() -> Iterator[bytes]:
        with Session(engine) as session:
            yield from _csv_lines(queries.iter_verdicts(session, filters))

    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="compliance-all.csv"'})


# Reports ----------------------------------------------------------------------------------

def report_list(request: Request) -> Response:
    filters = parse_filters(request.query_params)
    page = page_of(request)
    with Session(engine(request)) as session:
        total, rows = queries.reports(session, filters, page)
        choices = queries.filter_choices(session)
    return render(request, "reports.html", {
        "rows": rows, "total": total, "filters": filters, "page": page, "choices": choices,
        "pages": max(1, -(-total // page.size)), "figures": KEY_FIGURES})


def _version_param(request: Request, name: str, versions: list[Version]) -> Version | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    by_id = {v.id: v for v in versions}
    try:
        return by_id[int(raw)]
    except (ValueError, KeyError):
        raise BadParameter(f"{name}：该报告没有此版本") from None


def _report_or_404(session: Session, request: Request) -> dict[str, Any]:
    """The report the path names, with its issuer and versions (``queries.report``)."""
    found = queries.report(session, int_path(request, "report_id"))
    if found is None:
        raise HTTPException(404)
    return found


def report_page(request: Request) -> Response:
    with Session(engine(request)) as session:
        found = _report_or_404(session, request)
        versions = found["versions"]
        shown = _version_param(request, "version", versions) or versions[-1]
        record = shown.record or {}
        issuer, rep = found["issuer"], found["report"]
        cross = queries.cross_year(session, shown.id)
        verdict = queries.verdict_of(session, issuer.site_id, issuer.name, rep.report_year)
        # marks name the verdict's issuer (the configured name), not the stored spelling
        mark_issuer = verdict.issuer if verdict else issuer.name
        marks = triage.history(session, issuer.site_id or "", normalize_issuer(mark_issuer),
                               rep.report_year)
    metrics = record.get("metrics") or {}
    current = {(m.check_id): m for m in marks}
    return render(request, "report.html", {
        **found, "shown": shown, "record": record, "tables": tables(record),
        "figures": [(KEY_FIGURES[k], metrics.get(k)) for k in KEY_FIGURES],
        "rates": [(rate.label, percent(rate.value(metrics)), rate.explain(metrics))
                  for rate in RATES],
        "failed": failed_checks(shown.checks or record.get("checks") or []),
        "repairs": record.get("repairs") or [], "cross": [
            (c, failed_checks(c.checks)) for c in cross],
        "verdict": verdict, "marks": marks, "current_marks": current,
        "mark_issuer": mark_issuer,
        "mark_statuses": triage.STATUSES})


def report_diff(request: Request) -> Response:
    with Session(engine(request)) as session:
        found = _report_or_404(session, request)
        versions = found["versions"]
        a = _version_param(request, "a", versions)
        b = _version_param(request, "b", versions)
        if a is None or b is None:
            if len(versions) < 2:
                raise BadParameter("该报告只有一个版本，无可比较")
            a, b = a or versions[-2], b or versions[-1]
        changes = figure_changes(a.record or {}, b.record or {})
        texts = text_changes(a.record or {}, b.record or {})
    return render(request, "diff.html", {**found, "a": a, "b": b, "changes": changes,
                                          "texts": texts})


# Archived copies --------------------------------------------------------------------------

def _capture(request: Request):
    version_id = int_path(request, "version_id")
    with Session(engine(request)) as session:
        version = session.get(Version, version_id)
        if version is None or not version.warc_pointer:
            raise HTTPException(404)
        pointer, report_id = version.warc_pointer, version.report_id
    try:
        return version, report_id, load_capture(request.app.state.archive_dir, pointer)
    except (OSError, ArchiveIntegrityError) as exc:
        raise HTTPException(404, f"存档副本无法读取：{exc}") from None


def archived_page(request: Request) -> Response:
    version, report_id, capture = _capture(request)
    return render(request, "archived.html", {"version": version, "report_id": report_id,
                                              "capture": capture, "size": len(capture.body)})


def archived_raw(request: Request) -> Response:
    _, _, capture = _capture(request)
    headers = {"Content-Security-Policy": SANDBOX_CSP, "X-Content-Type-Options": "nosniff",
               "Referrer-Policy": "no-referrer", "Cache-Control": "private, max-age=3600"}
    media_type = served_type(capture.content_type)
    if request.query_params.get("download") == "1" or media_type == "application/octet-stream":
        headers["Content-Disposition"] = "attachment"
    return Response(capture.body, media_type=media_type, headers=headers)


def wacz_download(request: Request) -> Response:
    site = request.query_params.get("site") or None
    with Session(engine(request)) as session:
        if site and session.get(Site, site) is None:
            raise BadParameter("没有该网站")
        pointers = [v.warc_pointer for v in session.scalars(
            _site_versions(site)) if v.warc_pointer]
    with tempfile.NamedTemporaryFile(suffix=".wacz", delete=False) as tmp:
        path = Path(tmp.name)
    write_wacz(request.app.state.archive_dir, path, title=f"nianbao {site or '全部'}",
               only_files={p["file"] for p in pointers} if site else None)
    return FileResponse(path, media_type="application/wacz",
                        filename=f"nianbao-{site or 'all'}.wacz",
                        background=BackgroundTask(path.unlink, missing_ok=True))


def _site_versions(site: str | None):
    from nianbao.storage.models import Issuer, Report

    query = select(Version)
    if site:
        query = query.join(Report, Report.id == Version.report_id).join(
            Issuer, Issuer.id == Report.issuer_id).where(Issuer.site_id == site)
    return query


# Issuer over the years --------------------------------------------------------------------

def issuer_page(request: Request) -> Response:
    issuer_id = int_path(request, "issuer_id")
    with Session(engine(request)) as session:
        issuer, years = queries.issuer_years(session, issuer_id)
        if issuer is None:
            raise HTTPException(404)
        cross = queries.issuer_cross_year(session, issuer_id)
    shown = ("requests.new.total", "requests.granted.total", "requests.handled_total.total",
             "review.total")
    series = {KEY_FIGURES[k]: [_number(y["key_figures"].get(k)) for y in years] for k in shown}
    return render(request, "issuer.html", {
        "issuer": issuer, "years": years, "figures": KEY_FIGURES,
        "chart": charts.lines("主要数字历年变化", [y["report_year"] for y in years], series),
        "cross": [(c, failed_checks(c.checks), len(c.checks or [])) for c in cross]})


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


# Events and feeds -------------------------------------------------------------------------

def events_page(request: Request) -> Response:
    filters = parse_filters(request.query_params)
    page = page_of(request)
    with Session(engine(request)) as session:
        total, rows = queries.events(session, filters, page)
        items = [(e, event_title(event_dict(e)), event_body(event_dict(e))) for e in rows]
        choices = queries.filter_choices(session)
    days: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        days[item[0].occurred_at.date().isoformat()].append(item)
    return render(request, "events.html", {
        "days": days, "total": total, "filters": filters, "page": page, "choices": choices,
        "pages": max(1, -(-total // page.size)), "event_kinds": EVENT_KIND})


# The national statistic ----------------------------------------------------------------------

LEVEL = {"province": "省级", "prefecture": "地市级", "county": "县级", "unknown": "未知"}


def stats_page(request: Request) -> Response:
    """``nianbao stats`` as a page: per province and level, each count a link to the
    compliance table of exactly the verdicts it counts (and their evidence)."""
    filters = parse_filters(request.query_params)
    with Session(engine(request)) as session:
        years = queries.verdict_years(session)
    year = filters.year or (years[0] if years else None)
    rows = [row.as_dict() for row in national_stats(engine(request), year)] if year else []
    if wants_csv(request):
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerow(STATS_CSV_FIELDS)
        writer.writerows(csv_row(stats_csv_values(r)) for r in rows)
        return Response(out.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="stats-{year}.csv"'})
    return render(request, "stats.html", {
        "rows": rows, "year": year, "years": years, "statuses": list(STATUS), "levels": LEVEL})


def _atom(body: bytes) -> Response:
    return Response(body, media_type="application/atom+xml; charset=utf-8")


def feed_site(request: Request) -> Response:
    site_id = request.path_params["site_id"]
    with Session(engine(request)) as session:
        if session.get(Site, site_id) is None:
            raise HTTPException(404)
    return _atom(site_feed(engine(request), site_id))


def feed_region(request: Request) -> Response:
    region = request.path_params["region"]
    with Session(engine(request)) as session:
        site_ids = list(session.scalars(select(Site.id).where(Site.region == region)))
        if not site_ids:
            raise HTTPException(404)
        rows = session.scalars(select(Event).where(Event.site_id.in_(site_ids))
                               .order_by(Event.id.desc()).limit(200))
        events = [event_dict(e) for e in rows]
    return _atom(render_feed(f"region:{region}", f"nianbao 地区：{region}", events))


def feed_subscription(request: Request) -> Response:
    sub = get_subscription(engine(request), str(int_path(request, "sub_id")))
    if sub is None:
        raise HTTPException(404)
    return _atom(subscription_feed(engine(request), sub))


# Exports ----------------------------------------------------------------------------------

def export_download(request: Request) -> Response:
    shape, fmt = request.path_params["shape"], request.path_params["fmt"]
    if shape not in SHAPES or fmt not in FORMATS:
        raise HTTPException(404)
    filters = parse_filters(request.query_params)
    report_format = filters.report_format or "2021"
    if report_format not in ("2019", "2021"):
        raise BadParameter("format 应为 2019 或 2021")
    where = ExportFilter(filters.site, filters.region, filters.year,
                         filters.report_format if shape == "long" else None)
    with tempfile.NamedTemporaryFile(suffix=f".{fmt}", delete=False) as tmp:
        export(engine(request), shape, fmt, tmp, where, report_format)
    media = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson",
             "parquet": "application/vnd.apache.parquet"}[fmt]
    stamp = datetime.now().strftime("%Y%m%d")
    name = f"nianbao-{shape}{'-' + report_format if shape == 'wide' else ''}-{stamp}.{fmt}"
    return FileResponse(tmp.name, media_type=media, filename=name,
                        background=BackgroundTask(Path(tmp.name).unlink, missing_ok=True))


def exports_page(request: Request) -> Response:
    return render(request, "exports.html", {})


def routes() -> list[Route]:
    return [
        Route("/", overview, name="overview"),
        Route("/compliance", compliance, name="compliance"),
        Route("/reports", report_list, name="reports"),
        Route("/reports/{report_id}", report_page, name="report"),
        Route("/reports/{report_id}/diff", report_diff, name="diff"),
        Route("/versions/{version_id}/archive", archived_page, name="archived"),
        Route("/versions/{version_id}/archive/raw", archived_raw, name="archived_raw"),
        Route("/archive/collection.wacz", wacz_download, name="wacz"),
        Route("/issuers/{issuer_id}", issuer_page, name="issuer"),
        Route("/events", events_page, name="events"),
        Route("/stats", stats_page, name="stats"),
        Route("/feeds/site/{site_id}.atom", feed_site, name="feed_site"),
        Route("/feeds/region/{region}.atom", feed_region, name="feed_region"),
        Route("/feeds/subscription/{sub_id}.atom", feed_subscription, name="feed_sub"),
        Route("/exports", exports_page, name="exports"),
        Route("/exports/{shape}.{fmt}", export_download, name="export"),
    ]
