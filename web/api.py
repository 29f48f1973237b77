"""The read-only JSON API (``/api/…``) and its OpenAPI 3.1 description (``/api/openapi.json``).

Same filters as the pages (``web.filters``), paginated with ``page`` / ``per_page``; every list
answers ``{"total", "page", "per_page", "items"}``. The OpenAPI document is built from the
same table of routes that registers them, so a route cannot exist undocumented.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nianbao import __version__
from nianbao.storage.exports import cell_class, report_metric_keys
from nianbao.storage.models import Version
from nianbao.vocabulary.metrics import metric_label
from nianbao.web import queries
from nianbao.web.filters import Page, parse_filters, parse_page
from nianbao.web.render import int_path


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "as_dict"):
        return value.as_dict()
    raise TypeError(type(value).__name__)


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data, default=_default), status_code=status,
                    media_type="application/json")


def _page(request: Request) -> Page:
    conf = request.app.state.conf
    return parse_page(request.query_params, int(conf.get("page_size", 100)),
                      int(conf.get("max_page_size", 1000)))


def _listing(page: Page, total: int, items: list[Any]) -> Response:
    return _json({"total": total, "page": page.number, "per_page": page.size, "items": items})


def sites(request: Request) -> Response:
    filters = parse_filters(request.query_params)
    with Session(request.app.state.engine) as session:
        rows = queries.sites(session, filters)
    items = [{"id": s.id, "name": s.name, "region": s.region} for s in rows]
    page = _page(request)
    return _listing(page, len(items), items[page.offset:page.offset + page.size])


def reports(request: Request) -> Response:
    filters, page = parse_filters(request.query_params), _page(request)
    with Session(request.app.state.engine) as session:
        total, rows = queries.reports(session, filters, page)
    return _listing(page, total, rows)


def report(request: Request) -> Response:
    report_id = int_path(request, "report_id")
    with Session(request.app.state.engine) as session:
        found = queries.report(session, report_id)
        if found is None:
            raise HTTPException(404)
        latest: Version = found["versions"][-1]
        out = {"report_id": report_id, "issuer": found["issuer"].name,
               "issuer_id": found["issuer"].id, "issuer_kind": found["kind"],
               "site_id": found["issuer"].site_id, "report_year": found["report"].report_year,
               "versions": [_version(v) for v in found["versions"]],
               "record": latest.record}
    return _json(out)


def _version(v: Version) -> dict[str, Any]:
    return {"id": v.id, "kind": v.kind, "url": v.url, "format": v.format, "title": v.title,
            "first_seen": v.first_seen, "last_seen": v.last_seen,
            "published_date": v.published_date, "content_hash": v.content_hash,
            "previous_version_id": v.previous_version_id, "warc": v.warc_pointer}


def versions(request: Request) -> Response:
    filters, page = parse_filters(request.query_params), _page(request)
    with Session(request.app.state.engine) as session:
        total, rows = queries.versions(session, filters, page)
    return _listing(page, total, rows)


def verdicts(request: Request) -> Response:
    filters, page = parse_filters(request.query_params), _page(request)
    with Session(request.app.state.engine) as session:
        total = queries.count_verdicts(session, filters)
        rows = queries.verdicts(session, filters, page)
    return _listing(page, total, rows)


def events(request: Request) -> Response:
    filters, page = parse_filters(request.query_params), _page(request)
    with Session(request.app.state.engine) as session:
        total, rows = queries.events(session, filters, page)
        items = [{"id": e.id, "kind": e.kind, "site_id": e.site_id,
                  "issuer_id": e.issuer_id, "report_year": e.report_year,
                  "version_id": e.version_id, "occurred_at": e.occurred_at,
                  "baseline": e.baseline, "payload": e.payload} for e in rows]
    return _listing(page, total, items)


def metrics(request: Request) -> Response:
    """Long form, one item per report × metric, paginated over reports."""
    filters, page = parse_filters(request.query_params), _page(request)
    with Session(request.app.state.engine) as session:
        total, rows = queries.reports(session, filters, page)
        records = {v.id: v.record for v in session.query(Version).filter(
            Version.id.in_([r["version_id"] for r in rows]))}
    items = []
    for row in rows:
        record = records.get(row["version_id"]) or {}
        values = record.get("metrics") or {}
        for key in report_metric_keys(record):
            found = metric_label(key)
            items.append({"report_id": row["report_id"], "version_id": row["version_id"],
                          "site_id": row["site_id"], "region": row["region"],
                          "issuer": row["issuer"], "issuer_kind": row["issuer_kind"],
                          "report_year": row["report_year"], "format": row["format"],
                          "metric": key, "table_no": found.table if found else None,
                          "row_label": found.row if found else None,
                          "column_label": found.column if found else None,
                          "value": values.get(key), "cell_class": cell_class(record, key)})
    return _json({"total": total, "page": page.number, "per_page": page.size,
                  "items": items})


# OpenAPI -----------------------------------------------------------------------------------

FILTER_PARAMS = {
    "region": ("string", "行政区划代码 (6 digits): the sites of that division and of those "
               "under it (330000: all of Zhejiang)"),
    "level": ("string", "level of government of the site: province, prefecture or county"),
    "site": ("string", "site id (config/sites.yaml)"),
    "kind": ("string", "issuer kind: government, department, office, township, other"),
    "year": ("integer", "report year"),
    "status": ("string", "verdict status: on_time, late, missing, pending, undated, "
                         "unobserved"),
    "issuer": ("string", "part of the issuer's name"),
    "format": ("string", "report format: 2021 or 2019"),
    "event": ("string", "event kind (new_report, revised_report, …)"),
}
PAGE_PARAMS = {"page": ("integer", "page number, from 1"),
               "per_page": ("integer", "items per page (at most web.max_page_size)")}

# path, handler, operation id, summary, filters it takes, item schema name (None: an object)
ROUTES = [
    ("/api/sites", sites, "listSites", "Configured sites", ("region", "site"), "Site"),
    ("/api/reports", reports, "listReports", "Reports (latest version of each)",
     ("region", "site", "year", "issuer", "format"), "Report"),
    ("/api/reports/{report_id}", report, "getReport",
     "One report: its versions and latest record", (), None),
    ("/api/versions", versions, "listVersions", "Every stored version, newest first",
     ("region", "site", "year", "issuer"), "Version"),
    ("/api/verdicts", verdicts, "listVerdicts", "Compliance verdicts",
     ("region", "level", "site", "kind", "year", "status", "issuer"), "Verdict"),
    ("/api/events", events, "listEvents", "Events, newest first",
     ("region", "site", "year", "event"), "Event"),
    ("/api/metrics", metrics, "listMetrics",
     "Long form: one item per report × metric (paginated over reports)",
     ("region", "site", "year", "issuer", "format"), "Metric"),
]

_OBJECT = {"type": "object", "additionalProperties": True}


def _item_schema(name: str) -> dict[str, Any]:
    fields = {
        "Site": {"id": "string", "name": "string", "region": ["string", "null"]},
        "Report": {"report_id": "integer", "issuer": "string", "report_year": "integer",
                   "version_id": "integer", "format": "string"},
        "Version": {"id": "integer", "report_id": "integer", "url": "string",
                    "kind": "string", "first_seen": "string"},
        "Verdict": {"site_id": "string", "issuer": "string", "report_year": "integer",
                    "status": "string", "deadline": "string", "evidence": "string",
                    "observation": "string"},
        "Event": {"id": "integer", "kind": "string", "site_id": "string",
                  "occurred_at": "string", "payload": "object"},
        "Metric": {"report_id": "integer", "metric": "string", "row_label": ["string", "null"],
                   "column_label": ["string", "null"], "value": ["number", "null"],
                   "cell_class": "string"},
    }[name]
    return {"type": "object", "additionalProperties": True, "required": list(fields),
            "properties": {k: {"type": v} for k, v in fields.items()}}


def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for path, _, operation, summary, filters, item in ROUTES:
        params = [{"name": name, "in": "query", "required": False,
                   "description": FILTER_PARAMS[name][1],
                   "schema": {"type": FILTER_PARAMS[name][0]}} for name in filters]
        if item is None:
            params = [{"name": "report_id", "in": "path", "required": True,
                       "schema": {"type": "integer"}}]
            body = _OBJECT
        else:
            params += [{"name": n, "in": "query", "required": False, "description": d,
                        "schema": {"type": t, "minimum": 1}} for n, (t, d) in PAGE_PARAMS.items()]
            schemas[item] = _item_schema(item)
            body = {"type": "object", "required": ["total", "page", "per_page", "items"],
                    "properties": {"total": {"type": "integer"}, "page": {"type": "integer"},
                                   "per_page": {"type": "integer"},
                                   "items": {"type": "array",
                                             "items": {"$ref": f"#/components/schemas/{item}"}}}}
        responses = {"200": {"description": "OK",
                             "content": {"application/json": {"schema": body}}},
                     "400": {"description": "a parameter the API cannot use",
                             "content": {"application/json": {"schema": {
                                 "$ref": "#/components/schemas/Error"}}}}}
        if item is None:
            responses["404"] = {"description": "no such report", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        paths[path] = {"get": {"operationId": operation, "summary": summary,
                               "parameters": params, "responses": responses}}
    schemas["Error"] = {"type": "object", "required": ["error"],
                        "properties": {"error": {"type": "string"}}}
    return {"openapi": "3.1.0",
            "info": {"title": "nianbao API", "version": __version__,
                     "description": "Read-only access to stored 政府信息公开工作年度报告, "
                                    "their versions, compliance verdicts, events and metrics.",
                     "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}},
            "paths": paths, "components": {"schemas": schemas}}


def openapi(request: Request) -> Response:
    return _json(openapi_document())


def routes() -> list[Route]:
    return [*(Route(path, handler, name=operation) for path, handler, operation, *_ in ROUTES),
            Route("/api/openapi.json", openapi, name="openapi")]

