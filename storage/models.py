"""The tables: sites, issuers, reports and every version of them, crawl runs and crawl state.

A *report* is one issuer's report for one year; a *version* is one captured text of it (a URL
and a content hash). Versions are append-only, so a figure quietly changed after publication
stays provable: only ``last_seen`` is ever updated. Resources are the crawler's per-URL state
(validators, last outcome) and may be overwritten freely.

The schema itself is created by the migrations in ``storage/migrations``; a test checks that
these models and the migrated schema agree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from nianbao.storage.types import NULLABLE_JSON, JSONType, UTCDateTime, utcnow

# Named constraints, so migrations (and SQLite's batch mode, which rebuilds tables) can refer to
# them by name on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    region: Mapped[str | None]
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Issuer(Base):
    """One publishing body (a government or a department), canonical name first seen or set."""

    __tablename__ = "issuers"
    # ``nianbao reports`` lists by site and issuer name: read in this index's order, no sort
    __table_args__ = (Index("ix_issuers_site_id_name", "site_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    site_id: Mapped[str | None] = mapped_column(ForeignKey("sites.id"), index=True)
    kind: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IssuerAlias(Base):
    """A name an issuer was seen or configured under, with its normalised form.

    ``scope`` is the issuer's site id ('' for none). It is not nullable because the uniqueness
    of (scope, normalized) must hold on both backends, and NULLs never collide in a UNIQUE.
    """

    __tablename__ = "issuer_aliases"
    __table_args__ = (UniqueConstraint("scope", "normalized"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    scope: Mapped[str]
    alias: Mapped[str]
    normalized: Mapped[str]


class Report(Base):
    """One issuer's report of one year.

    ``cross_year_failed``: the failed check ids of its current cross-year results (between
    its latest version and the latest versions of the neighbouring years), by earlier year,
    each once, kept by the store (``nianbao.storage.cross_year``) so listings join nothing.
    """

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("issuer_id", "report_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"))
    report_year: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cross_year_failed: Mapped[list[str]] = mapped_column(JSONType, default=list)


class CrawlRun(Base):
    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str]  # running | finished | failed | interrupted
    sites: Mapped[list[str]] = mapped_column(JSONType, default=list)
    stats: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    bytes_received: Mapped[int] = mapped_column(BigInteger, default=0)
    # when the run's site events (unreachable, blocked, column moved) were recorded; a run left
    # without them (``nianbao crawl`` alone, a killed ``run``) gets them from the next one
    events_recorded_at: Mapped[datetime | None]


# What listings and the compliance evaluation read of a version (``ix_versions_listing``).
LISTING_COLUMNS = ("report_id", "id", "first_seen", "crawl_run_id", "published_date",
                   "date_source", "format", "url", "warc_file", "warc_offset", "warc_length",
                   "warc_record_id", "warc_pointer", "failed_checks", "key_figures",
                   "date_evidence")


class Version(Base):
    """One captured text of a report; never updated except ``last_seen``.

    ``key_figures``, ``failed_checks`` and ``date_source`` are small extracts of ``record``
    made when the version is stored, so listings of 100,000 reports never parse full records.
    """

    __tablename__ = "versions"
    __table_args__ = (
        UniqueConstraint("report_id", "url", "content_hash"),
        Index("ix_versions_report_id_first_seen_id", "report_id", "first_seen", "id"),
        Index("ix_versions_report_id_id", "report_id", "id"),
        # SQLite keeps a row's columns in order, and ``record`` (some 20 KB) comes before the
        # extracts: reading them walks the record's overflow pages. This index holds what the
        # listings and the compliance evaluation read, so they never touch the row. PostgreSQL
        # keeps large values out of line (TOAST) and limits an index entry to ~2.7 KB, which a
        # long URL could pass: it has no such index.
        Index("ix_versions_listing", *LISTING_COLUMNS).ddl_if(dialect="sqlite"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    url: Mapped[str]
    content_hash: Mapped[str]  # sha256 of the parsed content
    payload_digest: Mapped[str]  # sha256 of the raw bytes
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    published_date: Mapped[date | None]
    date_evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    record: Mapped[dict[str, Any]] = mapped_column(JSONType)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    format: Mapped[str]
    title: Mapped[str | None]
    content_type: Mapped[str | None]
    warc_file: Mapped[str | None]
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    warc_length: Mapped[int | None] = mapped_column(BigInteger)
    warc_record_id: Mapped[str | None]
    warc_pointer: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # a WarcPointer
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    kind: Mapped[str]  # new | revised | another_copy
    previous_version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    key_figures: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    failed_checks: Mapped[list[str]] = mapped_column(JSONType, default=list)  # error ids
    date_source: Mapped[str | None]  # the best-ranked evidence stating published_date
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrossYearResult(Base):
    """Checks between the versions of two consecutive years of one issuer."""

    __tablename__ = "cross_year_results"
    __table_args__ = (UniqueConstraint("earlier_version_id", "later_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("issuers.id"), index=True)
    earlier_year: Mapped[int]
    later_year: Mapped[int]
    earlier_version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    later_version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class FetchFailure(Base):
    """Why a URL gave no report; ``site_id`` is not a foreign key so a failure is never lost."""

    __tablename__ = "fetch_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    site_id: Mapped[str] = mapped_column(index=True)
    url: Mapped[str]
    reason: Mapped[str]  # short code: http-404, timeout, dns, challenge, soft-404, …
    detail: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Resource(Base):
    """The crawler's incremental state for one URL (validators, last outcome); overwritable."""

    __tablename__ = "resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(unique=True)
    site_id: Mapped[str]
    kind: Mapped[str]  # list | detail | attachment
    etag: Mapped[str | None]
    last_modified: Mapped[str | None]  # the Last-Modified header as sent
    payload_digest: Mapped[str | None]
    list_entry: Mapped[str | None]  # title + date the list page showed for this link
    status: Mapped[int | None]
    outcome: Mapped[str | None]  # report | not-a-report | lookalike | …
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))
    warc_file: Mapped[str | None]
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    warc_pointer: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # a WarcPointer
    content_type: Mapped[str | None]  # to answer a 304 from the archived body
    fetched_at: Mapped[datetime | None]
    checked_at: Mapped[datetime | None]
    # a detail page's links to follow, as the spider read them (``crawler/known_links.py``)
    links: Mapped[dict[str, Any] | None] = mapped_column(NULLABLE_JSON)


class Event(Base):
    """Something a subscriber may want to hear about, recorded once (``dedupe_key`` is unique).

    ``payload`` is self-contained (issuer, year, figures, changes, links…) so an alert or a feed
    entry reads the same long after the rows it came from have moved on.
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str]  # new_report | revised_report | late_report | missing_report | …
    site_id: Mapped[str] = mapped_column(index=True)
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("issuers.id"))
    report_year: Mapped[int | None]
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    dedupe_key: Mapped[str] = mapped_column(unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # part of a site's baseline (what its first crawl found): see ``nianbao.notify.alerts``
    baseline: Mapped[bool] = mapped_column(default=False)


class Subscription(Base):
    """Where to send which events: an Apprise URL and filters (an empty list matches all)."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    url: Mapped[str]
    sites: Mapped[list[str]] = mapped_column(JSONType, default=list)
    regions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    issuers: Mapped[list[str]] = mapped_column(JSONType, default=list)
    kinds: Mapped[list[str]] = mapped_column(JSONType, default=list)
    keyword: Mapped[str | None]
    mode: Mapped[str]  # immediate | daily
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(default=True)
    starts_at: Mapped[datetime | None]  # no alert for events before this (default: creation)
    baseline: Mapped[str | None]  # digest | each | none; None: alerts.baseline in settings
    event_cursor: Mapped[int] = mapped_column(default=0)  # events up to this id were matched


class Delivery(Base):
    """One message owed to a subscription: an event (immediate) or a day's digest (daily).

    The unique pairs make each owed message a single row, so it is sent at most once even across
    restarts; ``status`` becomes ``sent`` only after Apprise reported success.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id"),
        UniqueConstraint("subscription_id", "digest_day"),
        UniqueConstraint("subscription_id", "baseline_site", "baseline_run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    digest_day: Mapped[date | None]
    # a baseline digest: every baseline event of this site's first crawl, in one message
    baseline_site: Mapped[str | None]
    baseline_run_id: Mapped[int | None]
    status: Mapped[str] = mapped_column(default="pending")  # pending|sent|failed|unacknowledged
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class Observation(Base):
    """What one crawl run saw of one place where a site lists its reports.

    A verdict of ``missing`` accuses a body of not publishing; it may rest only on a place that
    was really read, completely, after the deadline. So every run records, per site and per
    column (or per homepage discovery), whether the place was reached and why not, whether every
    list page was read, and how many items it held.
    """

    __tablename__ = "observations"

    id: Mapped[int] = mapped_column(primary_key=True)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"), index=True)
    site_id: Mapped[str] = mapped_column(index=True)
    column_url: Mapped[str]  # the column as configured, or the homepage that discovery starts at
    url: Mapped[str | None]  # where the list was read (another URL when the column moved)
    observed_at: Mapped[datetime]
    reached: Mapped[bool]
    complete: Mapped[bool]  # every list page of the column was read
    # the configured column no longer held the list (404, soft 404, redirect off it, none of
    # its former items); ``url`` is where rediscovery from the homepage found it, if it did
    moved: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None]  # why not reached or not complete: dns, timeout, robots, …
    list_pages: Mapped[int] = mapped_column(default=0)
    items: Mapped[int] = mapped_column(default=0)  # entries the list held (reports or not)
    vantage: Mapped[str | None]  # which vantage point made the observation (settings label)
    detail: Mapped[str | None] = mapped_column(Text)
    # the first entries ({url, title}) the list held, in list order: the next run compares
    entries: Mapped[list[dict[str, str]] | None] = mapped_column(JSONType, nullable=True)


class VerdictRow(Base):
    """The latest compliance verdict for one expected report (site × issuer × report year).

    Written by every evaluation as of today (see ``nianbao.storage.verdicts`` for when and how
    it is kept exact); read by listings, the web app and statistics, so that none of them
    recomputes 100,000 verdicts per request. ``issuer_key`` is the normalised issuer name,
    stable across recomputations (marks made by people refer to it). ``observation`` says in
    words what the verdict rests on, ``observation_id`` which observation it is.
    """

    __tablename__ = "verdicts"
    __table_args__ = (
        UniqueConstraint("site_id", "issuer_key", "report_year"),
        Index("ix_verdicts_site_id_position", "site_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str] = mapped_column(index=True)
    issuer_id: Mapped[int | None] = mapped_column(ForeignKey("issuers.id"))
    issuer: Mapped[str]
    issuer_key: Mapped[str]
    kind: Mapped[str] = mapped_column(index=True)  # the web app filters by issuer kind
    report_year: Mapped[int] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(index=True)
    deadline: Mapped[date]
    grace_days: Mapped[int] = mapped_column(default=0)
    published_date: Mapped[date | None]
    evidence: Mapped[str]
    days_late: Mapped[int | None]
    warnings: Mapped[list[str]] = mapped_column(JSONType, default=list)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))
    url: Mapped[str | None]
    explanation: Mapped[str] = mapped_column(Text, default="")
    observation_id: Mapped[int | None] = mapped_column(ForeignKey("observations.id"))
    observation: Mapped[str] = mapped_column(Text, default="")  # the observation, in words
    reasons: Mapped[list[str]] = mapped_column(JSONType, default=list)  # why unobserved
    digest: Mapped[str] = mapped_column(default="")  # of the content: unchanged rows are kept
    position: Mapped[int] = mapped_column(default=0)  # order within the site's evaluation
    as_of: Mapped[date]
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The verdict as ``nianbao check`` prints it, ``as_of`` left out (a JSON object; a CSV row
    # without its line end), so a listing of an unchanged day streams these bytes.
    as_json: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    as_csv: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class VerdictSite(Base):
    """When a site's verdicts were last evaluated, and from what (``fingerprint``: its entry in
    the sites file, the deadline rules, the day and year judged, and the newest version,
    observation, failure and issuer name stored for it). A later evaluation with the same
    fingerprint would produce the same rows, so it reads them instead of recomputing."""

    __tablename__ = "verdict_sites"
    # (position, site_id) is unique as site_id is: the listing in the evaluation's order
    # (``nianbao.storage.verdicts.listing``) is then an index walk, with no sort.
    __table_args__ = (Index("ix_verdict_sites_position_site_id", "position", "site_id",
                            unique=True),)

    site_id: Mapped[str] = mapped_column(primary_key=True)
    fingerprint: Mapped[str]
    as_of: Mapped[date]
    report_year: Mapped[int | None]  # the one year evaluated, or None for all
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)
    position: Mapped[int] = mapped_column(default=0)  # the site's place in that evaluation


class VerdictStamp(Base):
    """What the whole ``verdicts`` table was last computed from, when one evaluation of a whole
    sites file wrote it (``fingerprint``: the sites file's bytes, the deadline rules, the day
    and year judged, and the newest version, observation, failure, alias and finished crawl
    run stored). A listing with the same fingerprint streams the stored rows as they are. Any
    other evaluation that stores verdicts removes the stamp first."""

    __tablename__ = "verdict_stamps"

    id: Mapped[int] = mapped_column(primary_key=True)  # one row at most
    fingerprint: Mapped[str]
    as_of: Mapped[date]
    report_year: Mapped[int | None]
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)



class TriageMark(Base):
    """A person's judgement of a verdict or of one failed check: confirmed, dismissed or excused.

    Marks are appended, never updated (the latest one per target counts, the others are its
    history). A target is named by keys that survive recomputation — the verdict's (site,
    normalised issuer, year), and for a check also its id — never by a row id that the next
    evaluation may replace.
    """

    __tablename__ = "triage_marks"
    __table_args__ = (
        Index("ix_triage_marks_target", "site_id", "issuer_key", "report_year", "check_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str]  # verdict | check
    site_id: Mapped[str]
    issuer_key: Mapped[str]
    report_year: Mapped[int]
    check_id: Mapped[str] = mapped_column(default="")  # '' for a verdict
    status: Mapped[str]  # confirmed | dismissed | excused
    note: Mapped[str] = mapped_column(Text, default="")
    user: Mapped[str]
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)


class MetricLabelRow(Base):
    """Each metric key's printed table, row and column (from ``nianbao.vocabulary.metrics``),
    kept in the database so SQL readers (Datasette, a notebook) see the Chinese labels."""

    __tablename__ = "metric_labels"

    key: Mapped[str] = mapped_column(primary_key=True)
    table_no: Mapped[str]  # 二 | 三 | 四
    row_label: Mapped[str]
    column_label: Mapped[str]
    label: Mapped[str]  # for a reader: 不予公开·属于国家秘密（自然人）
    formats: Mapped[str]  # the formats that have it: "2019,2021", "2021"
    position: Mapped[int]  # table order
