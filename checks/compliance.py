"""Was each expected report published on time? One verdict per site × issuer × report year.

A verdict of ``missing`` or ``late`` is an accusation, so every verdict says what it rests on:

- the one date source that decided a publication date (``nianbao.vocabulary.dates.DATE_RANK``:
  the page's PubDate meta first, the crawler's first sighting last), with the disagreements
  between sources kept as warnings;
- for a report that is not there, the *observation* that shows it is not: ``missing`` only
  when a finished crawl run read every place the site lists its reports in (each configured
  column, or the homepage discovery stands for) completely — every list page, no listed item
  left unread — on a day after deadline + grace, and no report of that issuer × year was
  there. Anything less is ``unobserved``, with the reasons (``dns``, ``robots``,
  ``challenge``, ``column-moved``, ``budget``, ``items-unread``, ``never-crawled``…). A site
  that was never crawled is never ``missing``.

``as_of`` replays the timeline: a stored report counts only from the day its deciding evidence
says it was published, so the same archive answers "what was overdue on 15 Feb 2024?". The
date that decides is the one of the report's earliest stored version: a later revision does not
move the publication date. Observations are used with hindsight: a complete reading made after
``as_of`` still shows that a report absent then was absent on ``as_of`` too, unless the report
was already there at that reading.

``evaluate`` streams: sites are read in batches of ``SITES_PER_BATCH`` (a few short queries
each, no ``IN`` list longer than a batch), so memory stays bounded by a batch, whatever the
number of reports. ``printed`` is the same evaluation as ``nianbao check`` prints it (each
verdict's stored JSON or CSV form, ``nianbao.checks.verdict_text``), stamped as
``nianbao.checks.stamp`` tells when it covers the whole sites file.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from nianbao.checks.deadlines import Deadline, DeadlineRules, load_rules
from nianbao.checks.stamp import LOGIC
from nianbao.checks.verdict_text import Renderer
from nianbao.sites import Site
from nianbao.storage.models import (
    CrawlRun,
    FetchFailure,
    Issuer,
    IssuerAlias,
    Observation,
    Report,
    Version,
)
from nianbao.storage.verdicts import VerdictTable, site_inputs
from nianbao.vocabulary.dates import DATE_RANK, FIRST_SEEN, PUBLICATION_SOURCES
from nianbao.vocabulary.issuers import issuer_kind, normalize_issuer

STATUSES = ("on_time", "late", "missing", "pending", "undated", "unobserved")
# Failures of a listed item that still let a reading count as complete: the item is gone
# (404, 410, soft 404), is not a report, or is not the site's to publish. Any other failure
# (timeout, challenge, parse-timeout, rejected…) means an item was listed but not read.
ITEM_FAILURES_THAT_ARE_ABSENCES = frozenset({
    "http-404", "http-410", "soft-404", "not-a-report", "lookalike", "out-of-scope",
    "forbidden-address", "trap",
})
SITES_PER_BATCH = 25


@dataclass(frozen=True, slots=True)
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
    observation_id: int | None = None
    observation: str = ""  # what nianbao saw, in words
    reasons: list[str] = field(default_factory=list)  # why unobserved


@dataclass(frozen=True, slots=True)
class Copy:
    """The earliest stored version of a report: what the dates are read from."""

    version_id: int
    url: str
    date_evidence: list[dict[str, Any]]
    first_seen: datetime
    crawl_run_id: int | None = None


@dataclass(frozen=True, slots=True)
class Judgement:
    status: str
    published: date | None
    evidence: str
    days_late: int | None
    warnings: list[str]
    explanation: str


@dataclass(frozen=True, slots=True)
class Reading:
    """One crawl run's look at all the places of a site (a place: a column or a homepage)."""

    run_id: int
    observation_id: int
    at: datetime  # when the last place was read
    places: int
    list_pages: int
    items: int
    complete: bool  # every place read completely, the run finished, no listed item unread
    reasons: tuple[str, ...]  # why it is not complete (empty when it is)
    detail: str  # the places in words, for a reading that is not complete


@dataclass
class SiteEvidence:
    """What storage holds about one site: issuers, earliest copies, and its readings."""

    issuers: dict[int, tuple[str, str | None]] = field(default_factory=dict)  # id → name, kind
    aliases: dict[str, int] = field(default_factory=dict)  # normalised name → issuer id
    copies: dict[tuple[int, int], Copy] = field(default_factory=dict)  # (issuer, year) → copy
    readings: list[Reading] = field(default_factory=list)  # oldest first
    complete: list[tuple[date, Reading]] = field(default_factory=list)  # by their local day
    proofs: dict[tuple[date, date], Reading | None] = field(default_factory=dict)

    def settle(self, tz: ZoneInfo) -> None:
        """Order the readings and index the complete ones by day, once all are loaded."""
        self.readings.sort(key=lambda r: (_aware(r.at), r.run_id))
        self.complete = [(local_date(r.at, tz), r) for r in self.readings if r.complete]


def local_date(value: str | date | datetime, tz: ZoneInfo) -> date:
    """The calendar day in ``tz`` (Beijing): aware times are converted, naive ones are taken as
    the portal's local time, as Chinese portals print them."""
    if isinstance(value, str):
        if len(value) == 10:  # a plain day, by far the most common evidence
            return date.fromisoformat(value)
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.astimezone(tz).date() if value.tzinfo else value.date()
    return value


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def ranked_dates(copy: Copy, tz: ZoneInfo) -> list[tuple[str, date]]:
    """One date per DATE_RANK source, best first; first-seen from the stored timestamp."""
    first = {}
    for item in copy.date_evidence:
        source = item.get("source")
        if source in DATE_RANK and source not in first and item.get("value"):
            try:
                first[source] = local_date(item["value"], tz)
            except (TypeError, ValueError):  # names no day (2月30日): no evidence of one
                continue
    first[FIRST_SEEN] = local_date(_aware(copy.first_seen), tz)
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


def _rule(deadline: Deadline) -> str:
    return f"due {deadline.due} under {deadline.rule}, grace {deadline.grace_days} day(s)"


def _absent(report_year: int, deadline: Deadline, as_of: date) -> Judgement:
    """Not there on ``as_of``: pending until deadline + grace, then missing — which the caller
    keeps only when an observation shows the absence."""
    if as_of <= deadline.due + timedelta(days=deadline.grace_days):
        return Judgement("pending", None, "no-report", None, [],
                         f"No {report_year} report yet; not overdue: {_rule(deadline)}.")
    return Judgement("missing", None, "no-report", None, [],
                     f"No {report_year} report, past the deadline: {_rule(deadline)}.")


def judge(report_year: int, deadline: Deadline, copy: Copy | None, as_of: date,
          rules: DeadlineRules) -> Judgement:
    """The dates' side of a verdict (see the module docstring); ``missing`` here still needs
    an observation of the absence (``evaluate`` turns it into ``unobserved`` without one).

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
    warnings = date_warnings(dict(ranked), source, day, report_year, rules)
    if source == FIRST_SEEN and day > end:
        return Judgement("undated", None, FIRST_SEEN, None, warnings,
                         f"The {report_year} report has no publication date and was first seen "
                         f"{day}, after the deadline ({_rule(deadline)}): lateness cannot be "
                         "shown.")
    if day <= end:
        return Judgement("on_time", day, source, None, warnings,
                         f"Published {day} by {source}: on time, {_rule(deadline)}.")
    late = (day - deadline.due).days
    return Judgement("late", day, source, late, warnings,
                     f"Published {day} by {source}: {late} day(s) late, {_rule(deadline)}.")


# --- observations ---------------------------------------------------------------------------


def _stamp(moment: datetime, tz: ZoneInfo) -> str:
    return _aware(moment).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _places(n: int) -> str:
    return "column" if n == 1 else f"{n} columns"


def describe_reading(reading: Reading, tz: ZoneInfo) -> str:
    """A reading in words: "column fully read 2026-02-03 08:12, 3 list pages, 41 items"."""
    if reading.complete:
        return (f"{_places(reading.places)} fully read {_stamp(reading.at, tz)} "
                f"(crawl run {reading.run_id}), {reading.list_pages} list page(s), "
                f"{reading.items} item(s)")
    return (f"crawl run {reading.run_id} on {_stamp(reading.at, tz)} did not read "
            f"{'the column' if reading.places == 1 else 'every column'} completely: "
            f"{reading.detail}")


def _proof_of_absence(evidence: SiteEvidence, end: date, as_of: date,
                      copy: Copy | None) -> Reading | None:
    """The complete reading that shows the report absent after deadline + grace (``end``): the
    latest one up to ``as_of``, else the first one after it; never one the report was in."""
    if copy is None and (end, as_of) in evidence.proofs:
        return evidence.proofs[end, as_of]
    proofs = [(day, r) for day, r in evidence.complete
              if day > end and (copy is None or (copy.crawl_run_id != r.run_id
                                                 and _aware(copy.first_seen) > _aware(r.at)))]
    before = [r for day, r in proofs if day <= as_of]
    proof = before[-1] if before else proofs[0][1] if proofs else None
    if copy is None:
        evidence.proofs[end, as_of] = proof
    return proof


def _unobserved(evidence: SiteEvidence, end: date, copy: Copy | None,
                tz: ZoneInfo) -> tuple[list[str], str, int | None]:
    """(reasons, the observation in words, its id) when no reading shows the absence."""
    if not evidence.readings:
        return ["never-crawled"], "nianbao has no observation of this site's report columns", None
    latest = evidence.readings[-1]
    complete = evidence.complete
    if latest.complete:
        if copy is not None:
            return (["report-present"],
                    f"the report was there (first seen {_stamp(copy.first_seen, tz)}) at every "
                    f"complete reading after {end}; last {describe_reading(latest, tz)}",
                    latest.observation_id)
        return ["read-before-deadline"], (
            f"no complete reading after {end}; last {describe_reading(latest, tz)}"
        ), latest.observation_id
    words = describe_reading(latest, tz)
    if complete:
        words += f"; last complete reading {_stamp(complete[-1][1].at, tz)}"
    return list(latest.reasons), words, latest.observation_id


# --- what storage holds, a batch of sites at a time -------------------------------------------


def _place_key(url: str) -> str:
    return url.split("#")[0].strip().rstrip("/")


def _load_copies(session: Session, batch: dict[str, SiteEvidence]) -> None:
    """Each report's earliest version (by first sighting, then id) and its issuer. Every
    version's few columns are read (from an index that holds them, on SQLite) and the earliest
    kept here: a report has one or two versions, and a subquery per report would read the
    rows themselves."""
    rows = session.connection().execute(  # Core rows: no ORM loading per report
        select(Issuer.site_id, Issuer.id, Issuer.name, Issuer.kind, Report.report_year,
               Version.first_seen, Version.id, Version.url, Version.date_evidence,
               Version.crawl_run_id)
        .join(Report, Report.issuer_id == Issuer.id)
        .join(Version, Version.report_id == Report.id)
        .with_hint(Version, "INDEXED BY ix_versions_listing", "sqlite")
        .where(Issuer.site_id.in_(list(batch))))
    earliest: dict[tuple[str, int, int], tuple[Any, ...]] = {}
    for site_id, issuer_id, name, kind, year, first_seen, version_id, *copy in rows:
        batch[site_id].issuers[issuer_id] = (name, kind)
        key, order = (site_id, issuer_id, year), (_aware(first_seen), version_id)
        if key not in earliest or order < earliest[key][0]:
            earliest[key] = (order, first_seen, version_id, *copy)
    for (site_id, issuer_id, year), (_, first_seen, version_id, url, dates, run_id) in (
            earliest.items()):
        batch[site_id].copies[(issuer_id, year)] = Copy(version_id, url, dates, first_seen,
                                                         run_id)
    for scope, normalized, issuer_id in session.connection().execute(
            select(IssuerAlias.scope, IssuerAlias.normalized, IssuerAlias.issuer_id)
            .where(IssuerAlias.scope.in_(list(batch)))):
        batch[scope].aliases[normalized] = issuer_id


def _load_readings(session: Session, sites: dict[str, Site],
                   batch: dict[str, SiteEvidence]) -> None:
    """Each crawl run's observations of a site, folded into one ``Reading`` (see there)."""
    unread: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    places = {site_id: {_place_key(u) for u in site.start_urls} for site_id, site in sites.items()}
    for site_id, run_id, reason, url in session.connection().execute(
            select(FetchFailure.site_id, FetchFailure.crawl_run_id, FetchFailure.reason,
                   FetchFailure.url)
            .where(FetchFailure.site_id.in_(list(batch)),
                   FetchFailure.reason.not_in(ITEM_FAILURES_THAT_ARE_ABSENCES))):
        if _place_key(url) not in places[site_id]:  # the place itself is the observation's
            unread[(site_id, run_id)][reason] += 1
    rows = session.connection().execute(
        select(Observation.site_id, Observation.crawl_run_id, CrawlRun.status,
               Observation.id, Observation.observed_at, Observation.column_url,
               Observation.url, Observation.reached, Observation.complete, Observation.moved,
               Observation.reason, Observation.list_pages, Observation.items)
        .join(CrawlRun, CrawlRun.id == Observation.crawl_run_id)
        .where(Observation.site_id.in_(list(batch)))
        .order_by(Observation.site_id, Observation.crawl_run_id, Observation.id))
    runs: dict[tuple[str, int], list[Any]] = {}
    for row in rows:
        runs.setdefault((row[0], row[1]), []).append(row)
    for (site_id, run_id), observed in runs.items():
        batch[site_id].readings.append(
            _reading(sites[site_id], run_id, observed, unread.get((site_id, run_id), {})))


def _reading(site: Site, run_id: int, observed: list[Any], unread: dict[str, int]) -> Reading:
    places = {_place_key(u): u for u in site.start_urls}
    seen: dict[str, Any] = {}
    for row in observed:
        seen[_place_key(row.column_url)] = row
    reasons, details = [], []
    for key, url in places.items():
        row = seen.get(key)
        if row is None:
            reasons.append("not-crawled")
            details.append(f"{url} not crawled")
        elif not row.complete:
            why = row.reason or ("incomplete" if row.reached else "not-reached")
            reasons.append(why)
            where = f" (moved to {row.url})" if row.moved and row.url else ""
            state = "reached but not read completely" if row.reached else "not reached"
            details.append(f"{url}{where} {state}: {why}, {row.list_pages} list page(s)")
    status = observed[0].status
    if status != "finished":
        reasons.append("interrupted")
        details.append(f"the run was {status}")
    if unread:
        reasons.append("items-unread")
        details.append("listed items not read: " + ", ".join(
            f"{reason} {n}" for reason, n in sorted(unread.items())))
    chosen = [seen[k] for k in places if k in seen] or observed
    return Reading(
        run_id=run_id, observation_id=chosen[0].id,
        at=max(_aware(r.observed_at) for r in chosen), places=len(places),
        list_pages=sum(r.list_pages for r in chosen), items=sum(r.items for r in chosen),
        complete=not reasons, reasons=tuple(dict.fromkeys(reasons)), detail="; ".join(details))


def load_evidence(session: Session, sites: list[Site], tz: ZoneInfo) -> dict[str, SiteEvidence]:
    """What storage holds about ``sites`` (one batch): four queries."""
    batch = {site.id: SiteEvidence() for site in sites}
    _load_copies(session, batch)
    _load_readings(session, {s.id: s for s in sites}, batch)
    for evidence in batch.values():
        evidence.settle(tz)
    return batch


# --- verdicts -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expected:
    issuer_id: int | None
    name: str
    kind: str


def expected(site: Site, evidence: SiteEvidence, year: int) -> list[Expected]:
    """The site entry's issuers, then every issuer that reported on the site by ``year``."""
    out = [Expected(evidence.aliases.get(normalize_issuer(e.name)), e.name,
                    issuer_kind(e.name, e.kind)) for e in site.issuers]
    known = {e.issuer_id for e in out}
    reporters = sorted({i for (i, y) in evidence.copies if y <= year and i not in known},
                       key=lambda i: (evidence.issuers[i][0], i))
    for issuer_id in reporters:
        name, kind = evidence.issuers[issuer_id]
        out.append(Expected(issuer_id, name, issuer_kind(name, kind)))
    return out


def report_years(stored: Iterable[int], as_of: date, year: int | None) -> list[int]:
    """``year`` alone, else the site's earliest stored report year (the previous year when it has
    none: nothing earlier was ever looked at) up to the last year whose report can be due."""
    if year is not None:
        return [year]
    last = as_of.year - 1
    return list(range(min([*stored, last]), last + 1))


def _verdict(site: Site, evidence: SiteEvidence, who: Expected, year: int, as_of: date,
             rules: DeadlineRules, deadline: Deadline) -> Verdict:
    tz = rules.timezone
    copy = evidence.copies.get((who.issuer_id, year)) if who.issuer_id else None
    j = judge(year, deadline, copy, as_of, rules)
    observation, observation_id, reasons = "", None, []
    status, explanation = j.status, j.explanation
    found = j.evidence != "no-report"
    if found:
        observation = f"report first seen {_stamp(copy.first_seen, tz)} at {copy.url}"
    elif status == "pending":
        if evidence.readings:
            latest = evidence.readings[-1]
            observation, observation_id = describe_reading(latest, tz), latest.observation_id
    else:
        end = deadline.due + timedelta(days=deadline.grace_days)
        proof = _proof_of_absence(evidence, end, as_of, copy)
        if proof is not None:
            observation = (f"{describe_reading(proof, tz)}, no report of {who.name} "
                           f"for {year}")
            observation_id = proof.observation_id
        else:
            reasons, observation, observation_id = _unobserved(evidence, end, copy, tz)
            status = "unobserved"
            explanation = (f"No {year} report seen, past the deadline ({_rule(deadline)}), "
                           f"but nianbao could not look for it: {', '.join(reasons)}.")
    return Verdict(
        site_id=site.id, issuer_id=who.issuer_id, issuer=who.name, kind=who.kind,
        report_year=year, status=status, deadline=deadline.due, grace_days=deadline.grace_days,
        published_date=j.published, evidence=j.evidence, days_late=j.days_late,
        warnings=j.warnings, version_id=copy.version_id if found else None,
        url=copy.url if found else None, explanation=explanation,
        observation_id=observation_id, observation=observation, reasons=reasons,
    )


def site_verdicts(site: Site, evidence: SiteEvidence, as_of: date, year: int | None,
                  rules: DeadlineRules) -> Iterator[Verdict]:
    """The verdicts of one site, by year and expected issuer."""
    stored = {y for (_, y) in evidence.copies}
    own = {name for item in site.raw.get("issuers") or []
           if isinstance(item, dict) and item.get("deadline")
           for name in (item.get("name"), *(item.get("aliases") or []))}
    deadlines: dict[tuple[str | None, str, int], Deadline] = {}
    for y in report_years(stored, as_of, year):
        for who in expected(site, evidence, y):
            key = (who.name if who.name in own else None, who.kind, y)
            if key not in deadlines:  # the same for every issuer of a kind without its own
                deadlines[key] = rules.deadline(site, who.name, who.kind, y)
            yield _verdict(site, evidence, who, y, as_of, rules, deadlines[key])


def fingerprint(site: Site, stored: tuple[int, ...], rules: str, as_of: date,
                year: int | None) -> str:
    """What a site's verdicts are computed from (see ``nianbao.storage.verdicts``): its entry,
    the deadline rules, the day and year judged, what is stored for it, and ``LOGIC``
    (raised whenever what a verdict says or how it is printed changes)."""
    entry = json.dumps(site.raw, sort_keys=True, ensure_ascii=False, default=str)
    text = repr((LOGIC, rules, as_of, year, entry, stored))
    return hashlib.sha1(text.encode()).hexdigest()


def evaluate(engine: Engine, sites: list[Site], as_of: date, site_ids: list[str] | None = None,
             year: int | None = None, rules: DeadlineRules | None = None,
             store: bool = False) -> Iterator[Verdict]:
    """Verdicts for every expected report of the chosen sites, by site (in the order given),
    year and issuer, streamed a batch of sites at a time.

    With ``store`` (for evaluations as of today) the ``verdicts`` table is brought in line with
    them batch by batch, and a site whose inputs have not changed since its stored evaluation
    is read back instead of judged again (``nianbao.storage.verdicts``); when every site of the
    sites file was evaluated, verdicts of sites no longer in it are dropped at the end.
    """
    return _evaluate(engine, sites, as_of, site_ids, year, rules, store, None, None)


def printed(engine: Engine, sites: list[Site], as_of: date, form: str,
            site_ids: list[str] | None = None, year: int | None = None,
            rules: DeadlineRules | None = None, store: bool = False,
            stamp: str | None = None) -> Iterator[bytes]:
    """``evaluate``, each verdict in its stored ``form`` (``as_json`` or ``as_csv``, see
    ``nianbao.checks.verdict_text``); a stored evaluation of every site of the sites file is
    stamped with ``stamp`` (``nianbao.checks.stamp``), taken before it started."""
    return _evaluate(engine, sites, as_of, site_ids, year, rules, store, form, stamp)


def _evaluate(engine: Engine, sites: list[Site], as_of: date, site_ids: list[str] | None,
              year: int | None, rules: DeadlineRules | None, store: bool, form: str | None,
              stamp: str | None) -> Iterator[Any]:
    """``evaluate`` (``form`` None: ``Verdict`` objects) or ``printed`` (their ``form``)."""
    rules = rules or load_rules()
    rules_key = repr(rules)
    render = Renderer()
    chosen = [s for s in sites if site_ids is None or s.id in site_ids]
    places = {site.id: place for place, site in enumerate(chosen)}
    table = VerdictTable(engine, as_of, year, all_sites=site_ids is None) if store else None
    for start in range(0, len(chosen), SITES_PER_BATCH):
        batch = chosen[start:start + SITES_PER_BATCH]
        fresh: set[str] = set()
        prints: dict[str, str] = {}
        if table is not None:
            with Session(engine) as session:
                inputs = site_inputs(session, [s.id for s in batch])
            prints = {s.id: fingerprint(s, inputs[s.id], rules_key, as_of, year) for s in batch}
            fresh = table.fresh(prints)
        stale = [s for s in batch if s.id not in fresh]
        computed: dict[str, list[tuple[Verdict, dict[str, bytes]]]] = {}
        if stale:
            with Session(engine) as session:
                evidence = load_evidence(session, stale, rules.timezone)
            rendered = table is not None or form is not None
            computed = {s.id: [(v, render(v) if rendered else {})
                               for v in site_verdicts(s, evidence[s.id], as_of, year, rules)]
                        for s in stale}
            if table is not None:
                table.write([s.id for s in stale],
                            [pair for pairs in computed.values() for pair in pairs], prints,
                            places)
        stored: dict[str, list[Any]] = {}
        if fresh and table is not None:
            kept = sorted(fresh)
            table.keep({site_id: places[site_id] for site_id in kept})
            stored = table.stored(kept) if form is None else table.stored_forms(kept, form)
        for site in batch:
            if site.id in computed:
                if form is None:
                    yield from (verdict for verdict, _ in computed[site.id])
                else:
                    yield from (forms[form] for _, forms in computed[site.id])
            elif form is None:
                yield from (Verdict(*row) for row in stored[site.id])  # VERDICT's order
            else:
                yield from stored[site.id]
    if table is not None:
        table.finish(stamp)


@dataclass(frozen=True, slots=True)
class Baseline:
    """What a site's first crawl covered: the run that first reached it, when, and the last
    version that run stored for it."""

    run_id: int
    first_reached: datetime
    last_version_id: int | None


def site_baselines(session: Session) -> dict[str, Baseline]:
    """Each site's baseline (see ``Baseline``).

    A ``late_report`` about a version the baseline run stored, or a ``missing_report`` whose
    deadline had passed before the site was first reached, describes what nianbao found when it
    started watching: a baseline event (see ``nianbao.notify.alerts``)."""
    firsts: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
    for site_id, run_id, first in session.execute(
            select(Observation.site_id, func.min(Observation.crawl_run_id),
                   func.min(Observation.observed_at))
            .where(Observation.reached.is_(True)).group_by(Observation.site_id)):
        firsts[site_id].append((run_id, _aware(first)))
    stored: dict[tuple[str, int], int] = {}
    for site_id, run_id, first, last in session.execute(
            select(Issuer.site_id, Version.crawl_run_id, func.min(Version.first_seen),
                   func.max(Version.id))
            .join(Report, Report.issuer_id == Issuer.id)
            .join(Version, Version.report_id == Report.id)
            .where(Issuer.site_id.is_not(None), Version.crawl_run_id.is_not(None))
            .group_by(Issuer.site_id, Version.crawl_run_id)):
        firsts[site_id].append((run_id, _aware(first)))
        stored[(site_id, run_id)] = last
    out = {}
    for site_id, seen in firsts.items():
        run_id = min(r for r, _ in seen)
        out[site_id] = Baseline(run_id, min(f for _, f in seen), stored.get((site_id, run_id)))
    return out
