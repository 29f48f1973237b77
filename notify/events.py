"""Turn what a crawl stored, and what the deadline verdicts say, into events recorded once.

Each event has a ``dedupe_key`` naming what caused it (a version, an issuer's year, the first
failed run of an outage), and the key is unique in the table: recording the same run or the same
verdicts again inserts nothing, so callers may replay freely after a crash. The payload copies
everything an alert needs, so messages and feeds never have to re-read versions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nianbao.settings import settings
from nianbao.storage.models import CrawlRun, Event, Issuer, Report, Version
from nianbao.storage.types import utcnow
from nianbao.vocabulary.figures import key_figures

EVENT_KINDS = (
    "new_report", "revised_report", "late_report", "missing_report", "failed_checks",
    "site_unreachable",
)
EXCERPT_CHARS = 80
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _insert_events(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose dedupe_key is new; how many were."""
    if not rows:
        return 0
    insert = _INSERT[session.bind.dialect.name](Event)
    inserted = 0
    for row in rows:
        statement = insert.values(occurred_at=utcnow(), **row)
        statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])
        # RETURNING, not rowcount: psycopg reports -1 for a skipped conflicting row.
        inserted += len(session.execute(statement.returning(Event.id)).all())
    return inserted


def _excerpt(text: str, start: int) -> str:
    """About EXCERPT_CHARS of ``text`` around ``start`` (where two texts begin to differ)."""
    begin = max(0, start - EXCERPT_CHARS // 4)
    piece = text[begin:begin + EXCERPT_CHARS]
    return ("…" if begin else "") + piece + ("…" if begin + EXCERPT_CHARS < len(text) else "")


def section_changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, str]]:
    """``[{section, before, after}]`` for each section whose text differs, as short excerpts
    starting near the first differing character (a journalist wants to see *where*)."""
    old, new = before.get("sections") or {}, after.get("sections") or {}
    out = []
    for name in sorted(old.keys() | new.keys()):
        a, b = old.get(name) or "", new.get(name) or ""
        if a == b:
            continue
        start = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                     min(len(a), len(b)))
        out.append({"section": name, "before": _excerpt(a, start), "after": _excerpt(b, start)})
    return out


def failed_checks(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The error-severity checks that failed (warnings are not alert-worthy on their own)."""
    return [
        {"id": c.get("id"), "detail": c.get("detail")}
        for c in record.get("checks") or []
        if c.get("ok") is False and c.get("severity") == "error"
    ]


def _report_payload(version: Version, issuer: Issuer, year: int) -> dict[str, Any]:
    record = version.record
    metrics = record.get("metrics") or {}
    return {
        "issuer": issuer.name,
        "report_year": year,
        "title": version.title,
        "url": version.url,
        "published_date": version.published_date.isoformat() if version.published_date else None,
        "date_evidence": version.date_evidence,
        "figures": key_figures(metrics),
        "failed_checks": failed_checks(record),
        "first_seen": version.first_seen.isoformat(),
        "warc": version.warc_pointer,
    }


def _version_events(session: Session, run_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Version, Report.report_year, Issuer)
        .join(Report, Version.report_id == Report.id)
        .join(Issuer, Report.issuer_id == Issuer.id)
        .where(Version.crawl_run_id == run_id)
        .order_by(Version.id)
    ).all()
    events = []
    for version, year, issuer in rows:
        payload = _report_payload(version, issuer, year)
        common = {
            "site_id": issuer.site_id or "", "issuer_id": issuer.id, "report_year": year,
            "version_id": version.id, "crawl_run_id": run_id,
        }
        if version.kind in ("new", "revised"):
            kind = f"{version.kind}_report"
            extra: dict[str, Any] = {}
            if version.kind == "revised" and version.previous_version_id is not None:
                previous = session.get_one(Version, version.previous_version_id)
                extra = {
                    "changes": version.changes,
                    "section_changes": section_changes(previous.record, version.record),
                    "previous_version_id": previous.id,
                }
            events.append({**common, "kind": kind, "dedupe_key": f"{kind}:v{version.id}",
                           "payload": {**payload, **extra}})
        if payload["failed_checks"]:
            events.append({**common, "kind": "failed_checks",
                           "dedupe_key": f"failed_checks:v{version.id}", "payload": payload})
    return events


def _pages(run: CrawlRun, site_id: str) -> int:
    return int((run.stats or {}).get(site_id, {}).get("pages") or 0)


def _unreachable_events(session: Session, run: CrawlRun, after_runs: int) -> list[dict[str, Any]]:
    """A site gets one event per outage: once its last ``after_runs`` finished runs (this one
    included) fetched no page. The outage is named by its first failed run, so later failed
    runs of the same outage produce the same key."""
    earlier = session.scalars(
        select(CrawlRun).where(CrawlRun.status == "finished", CrawlRun.id <= run.id)
        .order_by(CrawlRun.id.desc())
    ).all()
    events = []
    for site_id in run.sites or []:
        streak = []
        for past in earlier:
            if site_id not in (past.sites or []):
                continue
            if _pages(past, site_id) > 0:
                break
            streak.append(past)
        if len(streak) < after_runs or streak[0].id != run.id:
            continue
        first = streak[-1]
        events.append({
            "kind": "site_unreachable", "site_id": site_id, "crawl_run_id": run.id,
            "dedupe_key": f"site_unreachable:{site_id}:{first.id}",
            "payload": {"failed_runs": [r.id for r in reversed(streak)],
                        "since": first.started_at.isoformat()},
        })
    return events


def record_run_events(engine: Engine, run_id: int) -> int:
    """Record the events of one crawl run; how many were new (0 when replayed)."""
    after_runs = int(settings()["alerts"]["unreachable_after_runs"])
    with Session(engine) as session, session.begin():
        run = session.get(CrawlRun, run_id)
        if run is None:
            raise KeyError(f"no crawl run {run_id}")
        rows = _version_events(session, run_id)
        if run.status == "finished":
            rows += _unreachable_events(session, run, after_runs)
        return _insert_events(session, rows)


def _plain(value: Any) -> Any:
    """A verdict field as JSON: dates as ISO strings, sequences as lists."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


VERDICT_FIELDS = (
    "site_id", "issuer_id", "issuer", "kind", "report_year", "status", "deadline",
    "published_date", "evidence", "days_late", "warnings", "version_id", "url", "explanation",
)
VERDICT_EVENTS = {"late": "late_report", "missing": "missing_report"}


def record_verdict_events(engine: Engine, verdicts: Iterable[Any]) -> int:
    """Record late and missing reports from deadline verdicts (any object with the verdict's
    attributes); each issuer × year × kind once. How many were new."""
    rows = []
    for verdict in verdicts:
        kind = VERDICT_EVENTS.get(verdict.status)
        if kind is None:
            continue
        who = verdict.issuer_id if verdict.issuer_id is not None else (
            f"{verdict.site_id}/{verdict.issuer}")
        payload = {name: _plain(getattr(verdict, name, None)) for name in VERDICT_FIELDS}
        rows.append({
            "kind": kind, "site_id": verdict.site_id, "issuer_id": verdict.issuer_id,
            "report_year": verdict.report_year, "version_id": verdict.version_id,
            "dedupe_key": f"{kind}:{who}:{verdict.report_year}", "payload": payload,
        })
    with Session(engine) as session, session.begin():
        return _insert_events(session, rows)


def event_dict(event: Event) -> dict[str, Any]:
    """An event row as the plain dict messages, matching and feeds work on."""
    return {
        "id": event.id, "kind": event.kind, "site_id": event.site_id,
        "issuer_id": event.issuer_id, "report_year": event.report_year,
        "version_id": event.version_id, "payload": event.payload,
        "occurred_at": event.occurred_at,
    }
