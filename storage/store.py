"""The store the crawler and the CLI talk to: one short transaction per call.

Each method commits before returning, so a crawler killed at any moment loses at most the call
in flight, and replaying it after a restart is harmless: a document already stored is found by
its (report, URL, content hash) and reported ``unchanged``. Two writers racing on the same row
meet the unique constraints instead; the loser retries once and then sees the winner's row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from functools import partial
from typing import Any, NamedTuple, TypeVar

import orjson
from sqlalchemy import Connection, Engine, bindparam, func, insert, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from nianbao.storage.changes import record_changes
from nianbao.storage.cross_year import refresh_around
from nianbao.storage.events import insert_events, is_baseline, version_events
from nianbao.storage.issuers import IssuerRef, register_issuers, resolve_issuer
from nianbao.storage.models import (
    CrawlRun,
    CrossYearResult,
    FetchFailure,
    Observation,
    Report,
    Resource,
    Site,
    Version,
)
from nianbao.storage.summaries import identity_failures, report_summaries
from nianbao.storage.types import UTCDateTime, as_utc, utcnow
from nianbao.vocabulary.dates import deciding_source
from nianbao.vocabulary.figures import key_figures
from nianbao.vocabulary.identities import cross_year_checks

log = logging.getLogger(__name__)

RUN_END_STATES = ("finished", "failed", "interrupted")
RESOURCE_KINDS = ("list", "discover", "detail", "attachment")
_UPSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
T = TypeVar("T")


@dataclass(frozen=True)
class ResourceState:
    """What the crawler last knew about one URL."""

    url: str
    site_id: str
    kind: str
    etag: str | None
    last_modified: str | None
    payload_digest: str | None
    list_entry: str | None
    status: int | None
    outcome: str | None
    version_id: int | None
    warc_file: str | None
    warc_offset: int | None
    warc_pointer: dict[str, Any] | None
    content_type: str | None
    fetched_at: datetime | None
    checked_at: datetime | None
    links: dict[str, Any] | None  # a detail page's links to follow, as the spider read them


RESOURCE_FIELDS = frozenset(f.name for f in fields(ResourceState)) - {"url", "site_id", "kind"}
# Statements asked once or more per document of a crawl, built once: building a statement
# costs more than SQLite takes to run it.
_RESOURCE_COLUMNS = tuple(getattr(Resource, f.name) for f in fields(ResourceState))
_RESOURCE_STATE = select(*_RESOURCE_COLUMNS).where(Resource.url == bindparam("url"))
_SITE_STATES = select(*_RESOURCE_COLUMNS).where(Resource.site_id == bindparam("site_id"))
_REPORT = select(Report.id).where(Report.issuer_id == bindparam("issuer_id"),
                                  Report.report_year == bindparam("year"))
_NEW_REPORT = insert(Report).returning(Report.id)
_NEW_VERSION = insert(Version).returning(Version.id)
# Every version of a report, newest first, without its record (a report has a few).
_VERSION_KEYS = (select(Version.id, Version.url, Version.content_hash)
                 .where(Version.report_id == bindparam("report_id")).order_by(Version.id.desc()))
# What a new version reads of the one it follows: the record it is compared with, and where
# that copy is (for the events). Not the whole row through the session: a crawl asks this for
# every other copy of a report it stores.
_PREVIOUS = select(Version.id, Version.url, Version.first_seen, Version.warc_pointer,
                   Version.record).where(Version.id == bindparam("version"))
_NEIGHBOURS = select(Report.id, Report.report_year).where(
    Report.issuer_id == bindparam("issuer_id"),
    Report.report_year.in_([bindparam("before"), bindparam("after")]))
_TOUCH_VERSION = update(Version).where(
    Version.id == bindparam("version"), Version.last_seen < bindparam("seen", type_=UTCDateTime())
).values(last_seen=bindparam("seen"))
_LATEST_OF_REPORT = select(Version.id).where(Version.report_id == bindparam("report_id")).order_by(
    Version.id.desc()).limit(1)


class Kept(NamedTuple):
    """A document seen again unchanged: its version to touch, and its URL's new state (None:
    the state stays as it was)."""

    version_id: int | None
    seen_at: datetime
    url: str
    site_id: str
    kind: str
    state: dict[str, Any] | None = None


@dataclass
class StoreOutcome:
    """What ``store_document`` did; ``changes`` are figure changes against the previous version."""

    status: str  # new | revised | another_copy | unchanged | rejected
    version_id: int | None
    report_id: int | None
    issuer: str | None
    report_year: int | None
    changes: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None


def rejection_reason(record: dict[str, Any]) -> str | None:
    """Why a record cannot be filed as a report, or None when it can."""
    if record.get("format") == "unknown":
        return "format unknown: " + str(record.get("reason") or "no standard tables found")
    if not record.get("issuer"):
        return "no issuer found"
    if not record.get("report_year"):
        return "no report year found"
    return None


def without_nul(value: Any) -> Any:
    """The value with U+0000 removed from every string: PostgreSQL's JSONB refuses it, and a NUL
    carries no meaning in a report (it comes from broken extraction). A record without any is
    returned as it is, found so by one serialisation instead of a walk through every string."""
    try:
        if b"\\u0000" not in orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS):
            return value
    except orjson.JSONEncodeError:  # not plain JSON data: the walk decides
        pass
    return _strip_nul(value)


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strip_nul(v) for v in value]
    return value


def record_extracts(record: dict[str, Any]) -> dict[str, Any]:
    """The small parts of a record that listings read (see ``Version``): its key figures, the
    ids of its failed error checks, and the best-ranked evidence of its published date."""
    return {
        "key_figures": key_figures(record.get("metrics") or {}),
        "failed_checks": [c.get("id") for c in record.get("checks") or []
                          if c.get("severity") == "error" and c.get("ok") is False],
        "date_source": deciding_source(record.get("date_evidence") or [],
                                       record.get("published_date")),
    }


def _once_more_on_conflict(attempt: Callable[[], T], what: str) -> T:
    """Run a transaction; if a concurrent writer inserted the same row first, run it again:
    the second run finds that row instead of inserting it."""
    try:
        return attempt()
    except IntegrityError:
        log.info("concurrent write of %s; retrying to find the row that won", what)
        return attempt()


def _as_dict(row: Any) -> dict[str, Any]:
    return {attr.key: getattr(row, attr.key) for attr in inspect(row).mapper.column_attrs}


def _same_version(keys: list[Any], url: str, content_hash: str) -> int | None:
    """The id of the version with this URL and content among a report's version keys."""
    return next((k.id for k in keys if k.url == url and k.content_hash == content_hash), None)


class Store:
    """All reads and writes of the archive; safe to share between threads (no shared session)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._baselines: dict[tuple[str, int | None], bool] = {}
        self._sites: set[str] = set()  # sites found to exist (sites are never deleted)
        self._upserts: dict[tuple[str, ...], Any] = {}  # resource upserts by their fields

    # Sites and runs --------------------------------------------------------------------------

    def upsert_site(
        self,
        site_id: str,
        name: str,
        region: str | None,
        config: dict[str, Any],
        issuers: list[dict[str, Any]],
    ) -> None:
        """Create or refresh a site from its configuration, with its configured issuers."""

        def attempt() -> None:
            with self._sessions.begin() as session:
                site = session.get(Site, site_id)
                if site is None:
                    site = Site(id=site_id)
                    session.add(site)
                site.name, site.region, site.config = name, region, config
                session.flush()
                register_issuers(session, site_id, issuers)

        _once_more_on_conflict(attempt, f"site {site_id}")

    def start_run(self, site_ids: list[str]) -> int:
        with self._sessions.begin() as session:
            run = CrawlRun(status="running", sites=list(site_ids), stats={}, bytes_received=0)
            session.add(run)
            session.flush()
            return run.id

    def finish_run(
        self, run_id: int, status: str, stats: dict[str, Any], bytes_received: int
    ) -> None:
        if status not in RUN_END_STATES:
            raise ValueError(f"run status {status!r} is not one of {RUN_END_STATES}")
        with self._sessions.begin() as session:
            run = session.get(CrawlRun, run_id)
            if run is None:
                raise KeyError(f"no crawl run {run_id}")
            run.status, run.stats, run.bytes_received = status, stats, bytes_received
            run.finished_at = utcnow()

    def interrupted_runs_cleanup(self, started_before: datetime | None = None,
                                 sites: Iterable[str] | None = None) -> int:
        """Mark runs left 'running' by a killed crawler as 'interrupted'; how many were.

        Call it at start, before ``start_run``. Every unfinished run counts as dead unless
        ``started_before`` spares those started later, or ``sites`` (the sites this crawl is
        about to observe) spares runs of other sites: with several workers, each crawling its
        own platform under a lock, a run of another platform is alive, while a run of one of
        these sites can only be a killed crawl whose job is being run again.
        """
        query = select(CrawlRun.id, CrawlRun.sites).where(
            CrawlRun.status == "running", CrawlRun.finished_at.is_(None)
        )
        if started_before is not None:
            query = query.where(CrawlRun.started_at < as_utc(started_before))
        mine = None if sites is None else set(sites)
        with self._sessions.begin() as session:
            dead = [run_id for run_id, run_sites in session.execute(query)
                    if mine is None or mine.intersection(run_sites or ())]
            if not dead:
                return 0
            return session.execute(update(CrawlRun).where(CrawlRun.id.in_(dead))
                                   .values(status="interrupted")).rowcount

    def record_failure(
        self, run_id: int | None, site_id: str, url: str, reason: str, detail: str
    ) -> None:
        with self._sessions.begin() as session:
            session.add(FetchFailure(
                crawl_run_id=run_id, site_id=site_id, url=url, reason=reason, detail=detail
            ))

    # Crawl state per URL ---------------------------------------------------------------------

    def resource(self, url: str) -> ResourceState | None:
        """Asked once per request of a crawl: the state's columns only, no ORM object."""
        with self.engine.connect() as connection:
            row = connection.execute(_RESOURCE_STATE, {"url": url}).first()
        return None if row is None else ResourceState(*row)

    def remember_resource(self, url: str, site_id: str, kind: str, **values: Any) -> None:
        """Insert or update a URL's state; only the fields given are changed."""
        statement, params = self._resource_upsert(url, site_id, kind, values)
        with self.engine.begin() as connection:
            connection.execute(statement, params)

    def resources_of(self, site_id: str) -> dict[str, ResourceState]:
        """Every URL's state of one site, by URL, in one query: what a recrawl asks of each of
        its requests, at once (``crawler/states.py``)."""
        with self.engine.connect() as connection:
            rows = connection.execute(_SITE_STATES, {"site_id": site_id})
            return {row[0]: ResourceState(*row) for row in rows}

    def keep_versions(self, kept: list[Kept]) -> None:
        """Documents seen again unchanged, in one transaction: each version's ``last_seen``
        moves forward (as ``touch_version``) and each state given is updated (as
        ``remember_resource``), in the order given."""
        touches = [{"version": k.version_id, "seen": as_utc(k.seen_at)}
                   for k in kept if k.version_id is not None]
        upserts: list[tuple[Any, list[dict[str, Any]]]] = []  # runs of one statement, in order
        for k in kept:
            if k.state:
                statement, params = self._resource_upsert(k.url, k.site_id, k.kind, k.state)
                if upserts and upserts[-1][0] is statement:
                    upserts[-1][1].append(params)
                else:
                    upserts.append((statement, [params]))
        if not touches and not upserts:
            return
        with self.engine.begin() as connection:
            if touches:
                connection.execute(_TOUCH_VERSION, touches)
            for statement, rows in upserts:
                connection.execute(statement, rows)

    def _resource_upsert(self, url: str, site_id: str, kind: str,
                         values: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """The upsert of a URL's state and its parameters. The statement is built once per
        set of fields (building one costs more than running it)."""
        names = tuple(sorted(values))
        statement = self._upserts.get(names)
        if statement is None:
            unknown = set(names) - RESOURCE_FIELDS
            if unknown:
                raise TypeError(f"unknown resource fields: {sorted(unknown)}")
            insert = _UPSERT[self.engine.dialect.name](Resource)
            changed = ["site_id", "kind", *names]
            statement = insert.on_conflict_do_update(
                index_elements=[Resource.url], set_={k: insert.excluded[k] for k in changed})
            self._upserts[names] = statement
        if kind not in RESOURCE_KINDS:
            raise ValueError(f"resource kind {kind!r} is not one of {RESOURCE_KINDS}")
        return statement, {**values, "url": url, "site_id": site_id, "kind": kind}

    # Documents -------------------------------------------------------------------------------

    def store_document(
        self,
        *,
        run_id: int | None,
        site_id: str,
        url: str,
        record: dict[str, Any],
        content_hash: str,
        payload_digest: str,
        content_type: str | None,
        warc: dict[str, Any],
        fetched_at: datetime,
        resource: tuple[str, dict[str, Any]] | None = None,
    ) -> StoreOutcome:
        """File one parsed document as a new version of its report (see the module docstring).

        ``warc`` holds ``file``, ``offset``, ``length`` and ``record_id`` of the capture.
        ``resource``: (kind, fields) of the URL's crawl state, remembered (as
        ``remember_resource``, with the version's id and outcome) in the same transaction as
        the version, so neither is ever stored without the other.
        """
        reason = rejection_reason(record)
        if reason is not None:
            return StoreOutcome(
                "rejected", None, None, record.get("issuer"), record.get("report_year"),
                reason=reason,
            )
        attempt = partial(
            self._store, run_id=run_id, site_id=site_id, url=url, record=without_nul(record),
            content_hash=content_hash, payload_digest=payload_digest,
            content_type=content_type, warc=warc, fetched_at=as_utc(fetched_at),
            resource=resource,
        )
        return _once_more_on_conflict(attempt, url)

    def touch_version(self, version_id: int, seen_at: datetime) -> None:
        """The version was seen again unchanged (e.g. a 304): move its ``last_seen`` forward."""
        with self._sessions.begin() as session:
            version = session.get(Version, version_id)
            if version is None:
                raise KeyError(f"no version {version_id}")
            version.last_seen = max(version.last_seen, as_utc(seen_at))

    def _store(
        self, *, run_id: int | None, site_id: str, url: str, record: dict[str, Any],
        content_hash: str, payload_digest: str, content_type: str | None,
        warc: dict[str, Any], fetched_at: datetime,
        resource: tuple[str, dict[str, Any]] | None,
    ) -> StoreOutcome:
        with self._sessions.begin() as session:
            if site_id not in self._sites:
                if session.get(Site, site_id) is None:
                    raise ValueError(f"unknown site {site_id!r}: call upsert_site first")
                self._sites.add(site_id)
            issuer = resolve_issuer(session, site_id, record["issuer"])
            year = int(record["report_year"])
            connection = session.connection()  # plain SQL below: no ORM objects to flush
            # A report created in this transaction has no versions, and an issuer created in it
            # no reports of other years (no one else can write them: both rows are this
            # transaction's own until it commits): neither is looked for. Most documents of a
            # first crawl are both.
            report_id, new_report = self._report(connection, issuer, year)
            outcome = partial(
                StoreOutcome, report_id=report_id, issuer=issuer.name, report_year=year
            )
            keys = [] if new_report else connection.execute(
                _VERSION_KEYS, {"report_id": report_id}).all()
            same = _same_version(keys, url, content_hash)
            if same is not None:
                connection.execute(_TOUCH_VERSION, {"version": same, "seen": fetched_at})
                self._remember(connection, url, site_id, resource, "report", same)
                return outcome(status="unchanged", version_id=same)
            of_url = next((k.id for k in keys if k.url == url), None)
            kind = "revised" if of_url is not None else "another_copy" if keys else "new"
            previous_id = of_url if of_url is not None else keys[0].id if keys else None
            previous = None if previous_id is None else Version(**connection.execute(
                _PREVIOUS, {"version": previous_id}).one()._asdict())
            changes = [] if previous is None else record_changes(previous.record, record)
            published = record.get("published_date")
            values = dict(
                report_id=report_id, url=url, content_hash=content_hash,
                payload_digest=payload_digest, first_seen=fetched_at, last_seen=fetched_at,
                published_date=date.fromisoformat(published) if published else None,
                date_evidence=record.get("date_evidence") or [], record=record,
                checks=record["checks"], format=record["format"], title=record.get("title"),
                content_type=content_type, warc_file=warc.get("file"),
                warc_offset=warc.get("offset"), warc_length=warc.get("length"),
                warc_record_id=warc.get("record_id"), warc_pointer=warc or None,
                crawl_run_id=run_id, kind=kind,
                previous_version_id=previous.id if previous else None, changes=changes,
                **record_extracts(record),
            )
            # The row as inserted, and the same values as an object (never added to the
            # session) for the events and the cross-year checks to read.
            version = Version(**values, id=connection.execute(_NEW_VERSION, values).scalar_one())
            if not issuer.created and self._check_neighbour_years(session, issuer.id, year,
                                                                   version):
                session.flush()  # the cross-year results, for the listed failed checks to read
                refresh_around(connection, issuer.id, year)
            # else no report of year ± 1 was ever stored (reports are never deleted): no
            # cross-year result can name this report, and its listed failures stay none
            insert_events(session, version_events(
                version, previous, issuer, year, self._is_baseline(session, site_id, run_id)))
            self._remember(connection, url, site_id, resource, "report", version.id)
            return outcome(status=kind, version_id=version.id, changes=changes)

    def _remember(self, connection: Connection, url: str, site_id: str,
                  resource: tuple[str, dict[str, Any]] | None, outcome: str,
                  version_id: int) -> None:
        if resource is not None:
            kind, state = resource
            connection.execute(*self._resource_upsert(
                url, site_id, kind, {**state, "outcome": outcome, "version_id": version_id}))

    def _is_baseline(self, session: Session, site_id: str, run_id: int | None) -> bool:
        """Whether this run is the site's first crawl; fixed for the rest of the run once
        known (its own versions do not change the answer)."""
        key = (site_id, run_id)
        if key not in self._baselines:
            self._baselines[key] = is_baseline(session, site_id, run_id)
        return self._baselines[key]

    @staticmethod
    def _report(connection: Connection, issuer: IssuerRef, year: int) -> tuple[int, bool]:
        """The id of the issuer's report of that year, created when there is none (an issuer
        created in this transaction has none); and whether it was created."""
        if not issuer.created:
            report_id = connection.execute(
                _REPORT, {"issuer_id": issuer.id, "year": year}).scalar()
            if report_id is not None:
                return report_id, False
        return connection.execute(
            _NEW_REPORT, {"issuer_id": issuer.id, "report_year": year}).scalar_one(), True

    @staticmethod
    def _check_neighbour_years(
        session: Session, issuer_id: int, year: int, version: Version
    ) -> bool:
        """Cross-year checks of a new version against the latest of years N−1 and N+1;
        whether the issuer has a report of either year."""
        neighbours = session.execute(
            _NEIGHBOURS, {"issuer_id": issuer_id, "before": year - 1, "after": year + 1}).all()
        for other_report, other_year in sorted(neighbours, key=lambda n: n.report_year):
            latest = session.scalar(_LATEST_OF_REPORT, {"report_id": other_report})
            other = None if latest is None else session.get(Version, latest)
            if other is None:
                continue
            earlier, later = (other, version) if other_year < year else (version, other)
            session.add(CrossYearResult(
                issuer_id=issuer_id, earlier_year=min(year, other_year),
                later_year=max(year, other_year), earlier_version_id=earlier.id,
                later_version_id=later.id,
                checks=cross_year_checks(earlier.record, later.record),
            ))
        return bool(neighbours)

    # Readers ---------------------------------------------------------------------------------

    def reports(self, site_id: str | None = None,
                year: int | None = None) -> Iterator[dict[str, Any]]:
        """One summary per report (see ``nianbao.storage.summaries``), by site, issuer and year,
        streamed."""
        with self._sessions() as session:
            yield from report_summaries(session, site_id, year)

    def identity_failures(self, site_id: str | None = None,
                          year: int | None = None) -> Iterator[dict[str, Any]]:
        """The failed identities of the reports' latest versions, with their numbers."""
        with self._sessions() as session:
            yield from identity_failures(session, site_id, year)

    def versions(self, report_id: int) -> list[dict[str, Any]]:
        """Every version of a report, oldest first, with all its columns."""
        with self._sessions() as session:
            rows = session.scalars(
                select(Version).where(Version.report_id == report_id).order_by(Version.id)
            )
            return [_as_dict(row) for row in rows]

    def run_stats(self, run_id: int) -> dict[str, Any]:
        """A run's columns plus versions stored by kind and failures by reason."""
        with self._sessions() as session:
            run = session.get(CrawlRun, run_id)
            if run is None:
                raise KeyError(f"no crawl run {run_id}")
            by_kind = session.execute(
                select(Version.kind, func.count()).where(Version.crawl_run_id == run_id)
                .group_by(Version.kind)
            ).all()
            by_reason = session.execute(
                select(FetchFailure.reason, func.count())
                .where(FetchFailure.crawl_run_id == run_id).group_by(FetchFailure.reason)
            ).all()
            return {
                **_as_dict(run),
                "versions": {kind: n for kind, n in by_kind},
                "failures": {reason: n for reason, n in by_reason},
            }

    def failures(self, run_id: int) -> list[dict[str, Any]]:
        with self._sessions() as session:
            rows = session.scalars(
                select(FetchFailure).where(FetchFailure.crawl_run_id == run_id)
                .order_by(FetchFailure.id)
            )
            return [_as_dict(row) for row in rows]

    # Observations ----------------------------------------------------------------------------

    def record_observation(
        self, *, run_id: int | None, site_id: str, column_url: str, url: str | None,
        observed_at: datetime, reached: bool, complete: bool, moved: bool = False,
        reason: str | None = None, list_pages: int = 0, items: int = 0,
        vantage: str | None = None, detail: str | None = None,
        entries: list[dict[str, str]] | None = None,
    ) -> int:
        """Record what a run saw of one column (or of discovery from a homepage); its id.
        ``entries``: the first entries (``url``, ``title``) the list held, for the next run to
        compare with."""
        if complete and not reached:
            raise ValueError("a column that was not reached cannot have been read completely")
        with self._sessions.begin() as session:
            row = Observation(
                crawl_run_id=run_id, site_id=site_id, column_url=column_url, url=url,
                observed_at=as_utc(observed_at), reached=reached, complete=complete,
                moved=moved, reason=reason, list_pages=list_pages, items=items, vantage=vantage,
                detail=detail,
            )
            if entries is not None:
                row.entries = list(entries)
            session.add(row)
            session.flush()
            return row.id

    def previous_entries(self, site_id: str, column_url: str) -> list[dict[str, str]] | None:
        """The entries the place's list held when it was last read (None: never read)."""
        query = (
            select(Observation.entries)
            .where(Observation.site_id == site_id, Observation.column_url == column_url,
                   Observation.reached.is_(True))
            .order_by(Observation.observed_at.desc(), Observation.id.desc()).limit(1)
        )
        with self._sessions() as session:
            entries = session.scalar(query)
        return entries if isinstance(entries, list) else None

    def observations(self, site_id: str | None = None,
                     run_id: int | None = None) -> list[dict[str, Any]]:
        """Observations, oldest first, of one site and/or one run."""
        query = select(Observation).order_by(Observation.observed_at, Observation.id)
        if site_id is not None:
            query = query.where(Observation.site_id == site_id)
        if run_id is not None:
            query = query.where(Observation.crawl_run_id == run_id)
        with self._sessions() as session:
            return [_as_dict(row) for row in session.scalars(query)]

