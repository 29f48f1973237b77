"""Events made from what crawls observed and from the deadline verdicts, each recorded once.

Events about versions (``new_report``, ``revised_report``, ``failed_checks``) are written by
``Store`` in the transaction that stores the version (``nianbao.storage.events``). This module
adds the others:

- from each run's observations: ``site_unreachable`` (no place of the site reached, for
  ``alerts.unreachable_after_runs`` runs in a row), ``site_blocked`` (refused by robots.txt or
  an anti-bot challenge, after ``alerts.blocked_after_runs``), ``column_moved`` (a configured
  column no longer holds the list; where rediscovery found it, if it did). One event per
  outage or per move, named by its first run, so a replay or a longer outage adds nothing.
  A run whose events were never recorded (``nianbao crawl`` alone, a ``run`` killed before
  this stage) gets them from the next call.
- from verdicts: ``late_report``, and ``missing_report`` only for a ``missing`` verdict —
  one that an observation of the absence backs (``unobserved`` makes no event).

Each event has a unique ``dedupe_key``; recording the same run or verdicts again inserts
nothing, so callers may replay freely after a crash.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from nianbao.settings import settings
from nianbao.storage.events import insert_events
from nianbao.storage.models import CrawlRun, Event, Observation
from nianbao.storage.types import utcnow

# Observation reasons that mean the site refused nianbao rather than failed to answer.
BLOCKED_REASONS = frozenset({"robots", "challenge", "http-403", "http-412", "http-468",
                             "http-521"})
RUN_END_STATES = ("finished", "interrupted", "failed")
VERDICT_CHUNK = 2000


def _site_state(observed: list[Observation]) -> str:
    if any(o.reached for o in observed):
        return "reached"
    reasons = {o.reason for o in observed}
    return "blocked" if reasons & BLOCKED_REASONS else "unreachable"


def _outage_runs(session: Session, site_id: str, run_id: int) -> list[int]:
    """The runs of the site's current outage up to ``run_id``: every run that observed the site
    since the last run that reached it."""
    last_reached = session.scalar(
        select(func.max(Observation.crawl_run_id))
        .where(Observation.site_id == site_id, Observation.reached.is_(True),
               Observation.crawl_run_id < run_id)) or 0
    return list(session.scalars(
        select(Observation.crawl_run_id).distinct()
        .where(Observation.site_id == site_id, Observation.crawl_run_id > last_reached,
               Observation.crawl_run_id <= run_id)
        .order_by(Observation.crawl_run_id)))


def _reasons(observed: list[Observation]) -> list[dict[str, Any]]:
    return [{"column_url": o.column_url, "reason": o.reason, "detail": o.detail,
             "observed_at": o.observed_at.isoformat()} for o in observed]


def _site_events(session: Session, run: CrawlRun, conf: dict[str, Any]) -> list[dict[str, Any]]:
    observed: dict[str, list[Observation]] = defaultdict(list)
    for row in session.scalars(select(Observation).where(Observation.crawl_run_id == run.id)
                               .order_by(Observation.id)):
        observed[row.site_id].append(row)
    thresholds = {"unreachable": int(conf["unreachable_after_runs"]),
                  "blocked": int(conf["blocked_after_runs"])}
    events = []
    for site_id, rows in observed.items():
        for row in rows:
            if row.moved:
                where = row.url or "lost"
                events.append({
                    "kind": "column_moved", "site_id": site_id, "crawl_run_id": run.id,
                    "dedupe_key": f"column_moved:{site_id}:{row.column_url}:{where}",
                    "payload": {"column_url": row.column_url, "url": row.url,
                                "found": bool(row.url and row.complete), "reason": row.reason,
                                "detail": row.detail,
                                "observed_at": row.observed_at.isoformat()},
                })
        state = _site_state(rows)
        if state == "reached":
            continue
        outage = _outage_runs(session, site_id, run.id)
        if len(outage) < thresholds[state]:
            continue
        kind = f"site_{state}"
        events.append({
            "kind": kind, "site_id": site_id, "crawl_run_id": run.id,
            "dedupe_key": f"{kind}:{site_id}:{outage[0]}",
            "payload": {"failed_runs": outage, "since_run": outage[0],
                        "observations": _reasons(rows),
                        "reasons": sorted({o.reason or "not-reached" for o in rows})},
        })
    return events


def record_run_events(engine: Engine, run_id: int) -> int:
    """Record the site events of run ``run_id`` and of every earlier ended run that has none
    yet; how many were new (0 when replayed)."""
    conf = settings()["alerts"]
    inserted = 0
    with Session(engine) as session, session.begin():
        if session.get(CrawlRun, run_id) is None:
            raise KeyError(f"no crawl run {run_id}")
        runs = session.scalars(
            select(CrawlRun).where(CrawlRun.id <= run_id, CrawlRun.events_recorded_at.is_(None),
                                   CrawlRun.status.in_(RUN_END_STATES))
            .order_by(CrawlRun.id)).all()
        for run in runs:
            inserted += insert_events(session, _site_events(session, run, conf))
        if runs:
            session.execute(update(CrawlRun).where(CrawlRun.id.in_([r.id for r in runs]))
                            .values(events_recorded_at=utcnow()))
    return inserted


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
    "grace_days", "published_date", "evidence", "days_late", "warnings", "version_id", "url",
    "explanation", "observation", "observation_id",
)
VERDICT_EVENTS = {"late": "late_report", "missing": "missing_report"}


class VerdictEvents:
    """Collects late and missing verdicts and records their events in chunks; each issuer ×
    year × kind once. A baseline event is one about what the site already showed when nianbao
    first reached it (``nianbao.checks.compliance.site_baselines``); it carries the baseline
    run's id, so its alerts can be one digest."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.rows: list[dict[str, Any]] = []
        self.inserted = 0
        self.zone = ZoneInfo(settings()["alerts"]["timezone"])
        self._baselines: dict[str, Any] | None = None

    def _baseline_run(self, verdict: Any) -> int | None:
        """The site's baseline run when ``verdict`` describes the baseline, else None."""
        if self._baselines is None:
            from nianbao.checks.compliance import site_baselines

            with Session(self.engine) as session:
                self._baselines = site_baselines(session)
        base = self._baselines.get(verdict.site_id)
        if base is None:
            return None
        if verdict.status == "late":
            known = base.last_version_id is not None and verdict.version_id is not None
            return base.run_id if known and verdict.version_id <= base.last_version_id else None
        end = verdict.deadline + timedelta(days=verdict.grace_days)
        return base.run_id if base.first_reached.astimezone(self.zone).date() > end else None

    def add(self, verdict: Any) -> None:
        kind = VERDICT_EVENTS.get(verdict.status)
        if kind is None:
            return
        who = verdict.issuer_id if verdict.issuer_id is not None else (
            f"{verdict.site_id}/{verdict.issuer}")
        baseline_run = self._baseline_run(verdict)
        self.rows.append({
            "kind": kind, "site_id": verdict.site_id, "issuer_id": verdict.issuer_id,
            "report_year": verdict.report_year, "version_id": verdict.version_id,
            "crawl_run_id": baseline_run, "baseline": baseline_run is not None,
            "dedupe_key": f"{kind}:{who}:{verdict.report_year}",
            "payload": {name: _plain(getattr(verdict, name, None)) for name in VERDICT_FIELDS},
        })
        if len(self.rows) >= VERDICT_CHUNK:
            self.flush()

    def flush(self) -> int:
        """Record what was collected; the total recorded so far."""
        if self.rows:
            with Session(self.engine) as session, session.begin():
                self.inserted += insert_events(session, self.rows)
            self.rows = []
        return self.inserted


def record_verdict_events(engine: Engine, verdicts: Iterable[Any]) -> int:
    """Record late and missing reports from deadline verdicts (any objects with the verdict's
    attributes); how many were new."""
    recorder = VerdictEvents(engine)
    for verdict in verdicts:
        recorder.add(verdict)
    return recorder.flush()


def event_dict(event: Event) -> dict[str, Any]:
    """An event row as the plain dict messages, matching and feeds work on."""
    return {
        "id": event.id, "kind": event.kind, "site_id": event.site_id,
        "issuer_id": event.issuer_id, "report_year": event.report_year,
        "version_id": event.version_id, "payload": event.payload,
        "occurred_at": event.occurred_at, "baseline": event.baseline,
        "crawl_run_id": event.crawl_run_id,
    }
