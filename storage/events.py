"""Events about stored versions, written in the same transaction as the version itself.

A version without its event would be news nobody hears of (a crawl run on its own, a run
killed before its later stages): so ``Store`` inserts ``new_report``, ``revised_report`` and
``failed_checks`` rows together with the version, and the two commit or vanish together.
Events are recorded once: the ``dedupe_key`` is unique and a replay inserts nothing.

A site's *baseline* is what its first crawl found (see ``nianbao.notify.alerts`` for how it
is delivered): every version stored by the first crawl run that reached the site makes
baseline events.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nianbao.storage.issuers import IssuerRef
from nianbao.storage.models import Event, Issuer, Observation, Report, Version
from nianbao.storage.types import utcnow

EXCERPT_CHARS = 80
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@cache
def _insert_new_events(dialect: str) -> Any:
    """The insert of events whose ``dedupe_key`` is new, built once per dialect (building it
    cost more than running it)."""
    return (_INSERT[dialect](Event).on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(Event.id))


def insert_events(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose ``dedupe_key`` is new, in one batched statement; how many were."""
    if not rows:
        return 0
    now = utcnow()
    rows = [{"occurred_at": now, "baseline": False, "issuer_id": None, "report_year": None,
             "version_id": None, "crawl_run_id": None, **row} for row in rows]
    statement = _insert_new_events(session.bind.dialect.name)
    # RETURNING, not rowcount: psycopg reports -1 for skipped conflicting rows. Plain SQL on
    # the session's connection (no ORM bulk machinery: a crawl inserts these per document).
    return len(session.connection().execute(statement, rows).all())


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


def copy_payload(version: Version) -> dict[str, Any]:
    """Where one captured copy is, online and archived, and since when nianbao has it."""
    return {"version_id": version.id, "url": version.url,
            "first_seen": version.first_seen.isoformat(), "warc": version.warc_pointer}


def report_payload(version: Version, issuer: str, year: int) -> dict[str, Any]:
    record = version.record
    return {
        **copy_payload(version),
        "issuer": issuer,
        "report_year": year,
        "title": version.title,
        "published_date": version.published_date.isoformat() if version.published_date else None,
        "date_evidence": version.date_evidence,
        "figures": dict(version.key_figures or {}),
        "failed_checks": failed_checks(record),
    }


def is_baseline(session: Session, site_id: str, run_id: int | None) -> bool:
    """Whether run ``run_id`` is the site's first crawl: no version of the site came from any
    other run, and no earlier run reached it. Only a crawl run has a baseline."""
    if run_id is None:
        return False
    stored = exists().where(
        Version.report_id == Report.id, Report.issuer_id == Issuer.id, Issuer.site_id == site_id,
        Version.crawl_run_id.is_(None) | (Version.crawl_run_id != run_id))
    reached = exists().where(Observation.site_id == site_id, Observation.reached.is_(True),
                             Observation.crawl_run_id < run_id)
    return not session.scalar(select(stored | reached))


def version_events(version: Version, previous: Version | None, issuer: IssuerRef, year: int,
                   baseline: bool) -> list[dict[str, Any]]:
    """The event rows one newly stored version makes (see the module docstring)."""
    payload = report_payload(version, issuer.name, year)
    common = {"site_id": issuer.site_id or "", "issuer_id": issuer.id, "report_year": year,
              "version_id": version.id, "crawl_run_id": version.crawl_run_id,
              "baseline": baseline}
    rows = []
    if version.kind in ("new", "revised"):
        kind = f"{version.kind}_report"
        extra: dict[str, Any] = {}
        if version.kind == "revised" and previous is not None:
            extra = {"changes": version.changes,
                     "section_changes": section_changes(previous.record, version.record),
                     "previous_version_id": previous.id, "previous": copy_payload(previous),
                     "detected_at": version.first_seen.isoformat()}
        rows.append({**common, "kind": kind, "dedupe_key": f"{kind}:v{version.id}",
                     "payload": {**payload, **extra}})
    if payload["failed_checks"]:
        rows.append({**common, "kind": "failed_checks",
                     "dedupe_key": f"failed_checks:v{version.id}", "payload": payload})
    return rows
