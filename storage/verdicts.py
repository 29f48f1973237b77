"""The ``verdicts`` table: the latest compliance verdicts, kept for readers that must not
recompute them (the web app, statistics).

When it is written: by every evaluation *as of today* (Beijing) — ``nianbao check``,
``nianbao run`` and the scheduler's evaluation job; an evaluation as of another day is a
replay and only prints. What it holds: exactly the verdicts of the last evaluation of each
site (and year, when one year was evaluated). A row that evaluation did not produce — its
issuer left the sites file, its site was removed — is deleted, so nothing lingers. Rows are
compared by a digest of their content and only changed ones are rewritten; ``as_of`` and
``evaluated_at`` move forward on all rows of a site judged again.

The writer works a batch of sites at a time and commits each batch, so a reader sees every
site either before or after its evaluation, and memory stays bounded by a batch.

Each site's evaluation is recorded in ``verdict_sites`` with a fingerprint of what it was
computed from; ``site_inputs`` gives the stored half of it (the newest version, observation,
failure and issuer name of the site). An evaluation whose fingerprint for a site is unchanged
reads that site's rows back (``stored``) instead of judging again.

Each row also holds the verdict as the listing prints it (``as_json``, ``as_csv``, rendered by
the caller), and an evaluation of a whole sites file leaves a stamp (``verdict_stamps``) of
everything it was computed from, which ``nianbao.storage.verdict_listing`` compares before it
streams those bytes. Every other evaluation that stores verdicts removes the stamp before it
writes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nianbao.storage.models import (
    FetchFailure,
    Issuer,
    IssuerAlias,
    Observation,
    Report,
    VerdictRow,
    VerdictSite,
    VerdictStamp,
    Version,
)
from nianbao.storage.types import utcnow
from nianbao.storage.verdict_listing import FORMS
from nianbao.vocabulary.issuers import normalize_issuer

CONTENT = ("issuer_id", "issuer", "kind", "status", "deadline", "grace_days",
           "published_date", "evidence", "days_late", "warnings", "version_id", "url",
           "explanation", "observation_id", "observation", "reasons")
KEY = ("site_id", "issuer_key", "report_year")
VERDICT = ("site_id", "issuer_id", "issuer", "kind", "report_year", "status", "deadline",
           "grace_days", "published_date", "evidence", "days_late", "warnings", "version_id",
           "url", "explanation", "observation_id", "observation", "reasons")
DELETE_CHUNK = 500
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _digest(row: dict[str, Any]) -> str:
    """A fingerprint of the verdict's content and of how it is printed (the JSON form holds
    every field of the verdict)."""
    return hashlib.sha1(row["as_json"] + b"\n" + row["as_csv"]).hexdigest()


@lru_cache(maxsize=65536)
def _issuer_key(name: str) -> str:
    return normalize_issuer(name)


def site_inputs(session: Session, site_ids: list[str]) -> dict[str, tuple[int, ...]]:
    """Per site: the newest version, observation, fetch failure and issuer name ids stored for
    it (0 for none) — anything stored since changes them."""
    out = {site_id: [0, 0, 0, 0] for site_id in site_ids}
    queries = (
        select(Issuer.site_id, func.max(Version.id))
        .join(Report, Report.issuer_id == Issuer.id).join(Version, Version.report_id == Report.id)
        .where(Issuer.site_id.in_(site_ids)).group_by(Issuer.site_id),
        select(Observation.site_id, func.max(Observation.id))
        .where(Observation.site_id.in_(site_ids)).group_by(Observation.site_id),
        select(FetchFailure.site_id, func.max(FetchFailure.id))
        .where(FetchFailure.site_id.in_(site_ids)).group_by(FetchFailure.site_id),
        select(IssuerAlias.scope, func.max(IssuerAlias.id))
        .where(IssuerAlias.scope.in_(site_ids)).group_by(IssuerAlias.scope),
    )
    for column, query in enumerate(queries):
        for site_id, newest in session.execute(query):
            out[site_id][column] = newest or 0
    return {site_id: tuple(values) for site_id, values in out.items()}


class VerdictTable:
    """Writes one evaluation's verdicts (objects with the verdict's attributes) site batch by
    site batch: ``write(site_ids, verdicts)`` for each batch, then ``finish()``."""

    def __init__(self, engine: Engine, as_of: date, year: int | None = None,
                 all_sites: bool = False) -> None:
        self.engine = engine
        self.as_of = as_of
        self.year = year
        self.all_sites = all_sites
        self.started: datetime = utcnow()
        self.counts = {"written": 0, "unchanged": 0, "deleted": 0}
        with Session(self.engine) as session, session.begin():  # see the module docstring
            session.execute(delete(VerdictStamp))

    def _scope(self, query: Any, site_ids: list[str]) -> Any:
        query = query.where(VerdictRow.site_id.in_(site_ids))
        return query if self.year is None else query.where(VerdictRow.report_year == self.year)

    def fresh(self, fingerprints: dict[str, str]) -> set[str]:
        """The sites whose stored evaluation has these fingerprints (and this scope)."""
        with Session(self.engine) as session:
            return {site_id for site_id, fingerprint, as_of, year in session.execute(
                select(VerdictSite.site_id, VerdictSite.fingerprint, VerdictSite.as_of,
                       VerdictSite.report_year)
                .where(VerdictSite.site_id.in_(list(fingerprints))))
                if fingerprint == fingerprints[site_id] and as_of == self.as_of
                and year == self.year}

    def stored(self, site_ids: list[str]) -> dict[str, list[tuple[Any, ...]]]:
        """The stored verdicts of these sites, in their evaluation's order, as tuples of the
        ``VERDICT`` fields."""
        out: dict[str, list[tuple[Any, ...]]] = {site_id: [] for site_id in site_ids}
        columns = [getattr(VerdictRow, name) for name in VERDICT]
        with self.engine.connect() as connection:  # Core: no ORM row loading
            for row in connection.execute(self._scope(select(*columns), site_ids)
                                          .order_by(VerdictRow.site_id, VerdictRow.position)
                                          ).all():  # one batch of sites: fetched at once
                out[row[0]].append(row)
        return out

    def stored_forms(self, site_ids: list[str], form: str) -> dict[str, list[bytes]]:
        """The stored ``form`` of these sites' verdicts, in their evaluation's order."""
        if form not in FORMS:
            raise ValueError(f"unknown form {form!r}")
        out: dict[str, list[bytes]] = {site_id: [] for site_id in site_ids}
        with self.engine.connect() as connection:
            for site_id, value in connection.execute(self._scope(
                    select(VerdictRow.site_id, getattr(VerdictRow, form)), site_ids)
                    .order_by(VerdictRow.site_id, VerdictRow.position)):
                out[site_id].append(value)
        return out

    def write(self, site_ids: list[str], verdicts: Iterable[tuple[Any, dict[str, bytes]]],
              fingerprints: dict[str, str], positions: dict[str, int]) -> None:
        """Bring these sites' rows in line with ``verdicts`` (each with its ``FORMS``);
        ``positions``: each site's place in the evaluation."""
        rows: dict[tuple[str, str, int], dict[str, Any]] = {}
        counters: dict[str, int] = {}
        stamp = {"as_of": self.as_of, "evaluated_at": self.started}
        for verdict, forms in verdicts:
            row = {name: getattr(verdict, name) for name in CONTENT}
            row["warnings"], row["reasons"] = list(row["warnings"]), list(row["reasons"])
            row.update(forms)
            position = counters[verdict.site_id] = counters.get(verdict.site_id, -1) + 1
            row.update(site_id=verdict.site_id, report_year=verdict.report_year,
                       issuer_key=_issuer_key(verdict.issuer), position=position)
            row["digest"] = _digest(row)
            row.update(stamp)
            rows[(row["site_id"], row["issuer_key"], row["report_year"])] = row
        with Session(self.engine) as session, session.begin():
            stored = {(s, k, y): (i, d) for i, s, k, y, d in session.execute(self._scope(
                select(VerdictRow.id, VerdictRow.site_id, VerdictRow.issuer_key,
                       VerdictRow.report_year, VerdictRow.digest), site_ids))}
            changed = [row for key, row in rows.items()
                       if stored.get(key, (None, None))[1] != row["digest"]]
            gone = [row_id for key, (row_id, _) in stored.items() if key not in rows]
            for start in range(0, len(gone), DELETE_CHUNK):
                session.execute(delete(VerdictRow).where(
                    VerdictRow.id.in_(gone[start:start + DELETE_CHUNK])))
            if changed:  # Core, not ORM bulk: one multi-row statement per few hundred rows
                insert = _INSERT[session.bind.dialect.name](VerdictRow.__table__)
                statement = insert.on_conflict_do_update(
                    index_elements=list(KEY),
                    set_={name: insert.excluded[name]
                          for name in (*CONTENT, *FORMS, "digest", "position")})
                session.connection().execute(statement, changed)
            # the unchanged rows (the written ones already have both)
            session.execute(self._scope(update(VerdictRow), site_ids)
                            .where(VerdictRow.evaluated_at != self.started)
                            .values(**stamp))
            insert = _INSERT[session.bind.dialect.name](VerdictSite.__table__)
            session.connection().execute(insert.on_conflict_do_update(
                index_elements=["site_id"],
                set_={name: insert.excluded[name] for name in (
                    "fingerprint", "as_of", "report_year", "evaluated_at", "position")}),
                [{"site_id": site_id, "fingerprint": fingerprints[site_id], "as_of": self.as_of,
                  "report_year": self.year, "evaluated_at": self.started,
                  "position": positions[site_id]} for site_id in site_ids])
        self.counts["written"] += len(changed)
        self.counts["unchanged"] += len(rows) - len(changed)
        self.counts["deleted"] += len(gone)

    def keep(self, positions: dict[str, int]) -> None:
        """These sites' stored verdicts are still right (same fingerprint, so computed as of
        this same day): their rows stay as they are, the sites count as evaluated now, at
        these places in the evaluation."""
        table = VerdictSite.__table__
        with Session(self.engine) as session, session.begin():
            session.connection().execute(
                table.update().where(table.c.site_id == bindparam("site"))
                .values(evaluated_at=self.started, position=bindparam("place")),
                [{"site": site_id, "place": place} for site_id, place in positions.items()])

    def finish(self, stamp: str | None = None) -> dict[str, int]:
        """After a whole-sites-file evaluation, drop the verdicts of sites no longer in it, and
        stamp the table with ``stamp`` (what the evaluation was computed from) when given."""
        if self.all_sites:
            evaluated = select(VerdictSite.site_id).where(
                VerdictSite.evaluated_at >= self.started)
            query = delete(VerdictRow).where(VerdictRow.site_id.not_in(evaluated))
            if self.year is not None:
                query = query.where(VerdictRow.report_year == self.year)
            with Session(self.engine) as session, session.begin():
                self.counts["deleted"] += session.execute(query).rowcount or 0
                session.execute(delete(VerdictSite)
                                .where(VerdictSite.evaluated_at < self.started))
                if stamp is not None:
                    session.add(VerdictStamp(id=1, fingerprint=stamp, as_of=self.as_of,
                                             report_year=self.year, evaluated_at=self.started))
        return self.counts
