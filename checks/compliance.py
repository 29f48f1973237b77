"""Was each expected report published on time? One verdict per site × issuer × report year.

A verdict must be checkable by a person, so it names the one date source that decided it
(``nianbao.vocabulary.dates.DATE_RANK``: the page's PubDate meta first, the crawler's first
sighting last) and keeps the disagreements between sources as warnings instead of hiding them.

``as_of`` replays the timeline: a stored report counts only from the day its deciding evidence
says it was published, so the same archive answers "what was overdue on 15 Feb 2024?".
The date that decides is the one of the report's earliest stored version: a later revision
does not move the publication date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from nianbao.checks.deadlines import Deadline, DeadlineRules, load_rules
from nianbao.sites import Site
from nianbao.storage.models import Issuer, IssuerAlias, Report, Version
from nianbao.vocabulary.dates import DATE_RANK, FIRST_SEEN, PUBLICATION_SOURCES
from nianbao.vocabulary.issuers import issuer_kind, normalize_issuer

STATUSES = ("on_time", "late", "missing", "pending", "undated")


@dataclass(frozen=True)
class Verdict:
    site_id: str
    issuer_id: int | None
    issuer: str
    kind: str
    report_year: int
    status: str
    deadline: date
    grace_days: int
    published_date: date | None
    evidence: str  # the deciding DATE_RANK source, or no-report
    days_late: int | None
    warnings: list[str] = field(default_factory=list)
    version_id: int | None = None
    url: str | None = None
    explanation: str = ""


@dataclass(frozen=True)
class Copy:
    """The earliest stored version of a report: what the dates are read from."""

    version_id: int
    url: str
    date_evidence: list[dict[str, Any]]
    first_seen: datetime


@dataclass(frozen=True)
class Judgement:
    status: str
    published: date | None
    evidence: str
    days_late: int | None
    warnings: list[str]
    explanation: str


def local_date(value: str | date | datetime, tz: ZoneInfo) -> date:
    """The calendar day in ``tz`` (Beijing): aware times are converted, naive ones are taken as
    the portal's local time, as Chinese portals print them."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.astimezone(tz).date() if value.tzinfo else value.date()
    return value


def ranked_dates(copy: Copy, tz: ZoneInfo) -> list[tuple[str, date]]:
    """One date per DATE_RANK source, best first; first-seen from the stored timestamp."""
    first = {}
    for item in copy.date_evidence:
        if item.get("source") in DATE_RANK and item["source"] not in first and item.get("value"):
            first[item["source"]] = local_date(item["value"], tz)
    seen = copy.first_seen if copy.first_seen.tzinfo else copy.first_seen.replace(tzinfo=UTC)
    first[FIRST_SEEN] = local_date(seen, tz)
    return [(source, first[source]) for source in DATE_RANK if source in first]


def date_warnings(dates: dict[str, date], source: str, day: date, report_year: int,
                  rules: DeadlineRules) -> list[str]:
    """Disagreements between the date sources of one copy, as readable flags."""
    out = []
    pubdate, signed = dates.get("meta:PubDate"), dates.get("signature")
    if pubdate and signed and pubdate < signed:
        out.append(f"meta:PubDate {pubdate} is before the signature date {signed}")
    for other in PUBLICATION_SOURCES:
        value = dates.get(other)
        if other != source and value and abs((value - day).days) > rules.disagreement_days:
            out.append(f"{other} date {value} disagrees with {source} {day}")
    seen = dates[FIRST_SEEN]
    if source != FIRST_SEEN and (seen - day).days > rules.first_seen_after_days:
        out.append(f"first seen {seen}, {(seen - day).days} days after the {source} date {day}")
    if day.year <= report_year:
        out.append(f"{source} date {day} is before the end of report year {report_year}")
    return out


def _absent(report_year: int, deadline: Deadline, as_of: date) -> Judgement:
    end = deadline.due + timedelta(days=deadline.grace_days)
    rule = f"due {deadline.due} under {deadline.rule}, grace {deadline.grace_days} day(s)"
    if as_of <= end:
        return Judgement("pending", None, "no-report", None, [],
                         f"No {report_year} report as of {as_of}; not yet overdue: {rule}.")
    return Judgement("missing", None, "no-report", None, [],
                     f"No {report_year} report as of {as_of}, past the deadline: {rule}.")


def judge(report_year: int, deadline: Deadline, copy: Copy | None, as_of: date,
          rules: DeadlineRules) -> Judgement:
    """The verdict's substance for one expected report (see the module docstring).

    First-seen alone proves only that a report existed by then: it makes a report on time when
    that day is within the deadline, and undated otherwise (it may have been out for months).
    """
    if copy is None:
        return _absent(report_year, deadline, as_of)
    ranked = ranked_dates(copy, rules.timezone)
    source, day = next(((s, d) for s, d in ranked if s != FIRST_SEEN), ranked[-1])
    if day > as_of:
        return _absent(report_year, deadline, as_of)
    end = deadline.due + timedelta(days=deadline.grace_days)
    rule = f"due {deadline.due} under {deadline.rule}, grace {deadline.grace_days} day(s)"
    warnings = date_warnings(dict(ranked), source, day, report_year, rules)
    if source == FIRST_SEEN and day > end:
        return Judgement("undated", None, FIRST_SEEN, None, warnings,
                         f"The {report_year} report has no publication date and was first seen "
                         f"{day}, after the deadline ({rule}): lateness cannot be shown.")
    if day <= end:
        return Judgement("on_time", day, source, None, warnings,
                         f"Published {day} by {source}: on time, {rule}.")
    late = (day - deadline.due).days
    return Judgement("late", day, source, late, warnings,
                     f"Published {day} by {source}: {late} day(s) late, {rule}.")


@dataclass(frozen=True)
class Expected:
    issuer_id: int | None
    name: str
    kind: str


class Archive:
    """What storage holds for the chosen sites, read once: issuers, reports, earliest copies."""

    def __init__(self, session: Session, site_ids: list[str]) -> None:
        issuers = session.scalars(select(Issuer).where(Issuer.site_id.in_(site_ids))).all()
        self.issuers = {i.id: i for i in issuers}
        self.aliases = {(a.scope, a.normalized): a.issuer_id for a in session.scalars(
            select(IssuerAlias).where(IssuerAlias.scope.in_(site_ids)))}
        reports = session.scalars(
            select(Report).where(Report.issuer_id.in_(list(self.issuers)))).all()
        self.report_years = {(r.issuer_id, r.report_year): r.id for r in reports}
        self.copies: dict[int, Copy] = {}
        rows = session.scalars(select(Version).where(
            Version.report_id.in_(list(self.report_years.values())))
            .order_by(Version.first_seen, Version.id))
        for v in rows:
            self.copies.setdefault(v.report_id, Copy(v.id, v.url, v.date_evidence, v.first_seen))

    def years_of(self, site_id: str) -> list[int]:
        return sorted({y for (i, y) in self.report_years if self.issuers[i].site_id == site_id})

    def copy(self, issuer_id: int | None, year: int) -> Copy | None:
        report_id = self.report_years.get((issuer_id, year)) if issuer_id else None
        return None if report_id is None else self.copies.get(report_id)

    def expected(self, site: Site, year: int) -> list[Expected]:
        """The site entry's issuers, then every issuer that reported on the site by ``year``."""
        out = [Expected(self.aliases.get((site.id, normalize_issuer(e.name))), e.name,
                        issuer_kind(e.name, e.kind)) for e in site.issuers]
        known = {e.issuer_id for e in out}
        reporters = sorted(
            (self.issuers[i] for (i, y) in self.report_years
             if y <= year and self.issuers[i].site_id == site.id and i not in known),
            key=lambda i: i.name)
        for issuer in dict.fromkeys(reporters):
            out.append(Expected(issuer.id, issuer.name, issuer_kind(issuer.name, issuer.kind)))
        return out


def report_years(stored: list[int], as_of: date, year: int | None) -> list[int]:
    """``year`` alone, else the site's earliest stored report year (the previous year when it has
    none: nothing earlier was ever looked at) up to the last year whose report can be due."""
    if year is not None:
        return [year]
    last = as_of.year - 1
    return list(range(min([*stored, last]), last + 1))


def evaluate(engine: Engine, sites: list[Site], as_of: date, site_ids: list[str] | None = None,
             year: int | None = None, rules: DeadlineRules | None = None) -> list[Verdict]:
    """Verdicts for every expected report of the chosen sites, by site, year and issuer."""
    rules = rules or load_rules()
    chosen = [s for s in sites if site_ids is None or s.id in site_ids]
    with Session(engine) as session:
        archive = Archive(session, [s.id for s in chosen])
    return [verdict for site in chosen
            for y in report_years(archive.years_of(site.id), as_of, year)
            for verdict in _site_year(archive, site, y, as_of, rules)]


def _site_year(archive: Archive, site: Site, year: int, as_of: date,
               rules: DeadlineRules) -> Iterable[Verdict]:
    for expected in archive.expected(site, year):
        deadline = rules.deadline(site, expected.name, expected.kind, year)
        copy = archive.copy(expected.issuer_id, year)
        j = judge(year, deadline, copy, as_of, rules)
        found = copy is not None and j.evidence != "no-report"
        yield Verdict(
            site_id=site.id, issuer_id=expected.issuer_id, issuer=expected.name,
            kind=expected.kind, report_year=year, status=j.status, deadline=deadline.due,
            grace_days=deadline.grace_days, published_date=j.published, evidence=j.evidence,
            days_late=j.days_late, warnings=j.warnings,
            version_id=copy.version_id if found else None, url=copy.url if found else None,
            explanation=j.explanation,
        )
