"""The ``verdicts`` table: the latest compliance verdicts, kept for readers that must not
recompute them (the web app, statistics).

When it is written: by every evaluation *as of today* (Beijing) — ``nianbao check``,
``nianbao run`` and the scheduler's evaluation job; an evaluation as of another day is a
replay and only prints. What it holds: exactly the verdicts of the last evaluation of each
site (and year, when one year was evaluated). A row that evaluation did not produce — its
issuer left the sites file, its site was removed — is deleted, so nothing lingers. Rows are
compared by a digest of their content and only changed ones are rewritten; ``as_of`` and
``evaluated_at`` move forward on all of them.

The writer works a batch of sites at a time and commits each batch, so a reader sees every
site either before or after its evaluation, and memory stays bounded by a batch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nianbao.storage.issuers import normalize_issuer
from nianbao.storage.models import VerdictRow
from nianbao.storage.types import utcnow

CONTENT = ("issuer_id", "issuer", "kind", "status", "deadline", "grace_days",
           "published_date", "evidence", "days_late", "warnings", "version_id", "url",
           "explanation", "observation_id", "observation", "reasons")
KEY = ("site_id", "issuer_key", "report_year")
DELETE_CHUNK = 500
_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _digest(row: dict[str, Any]) -> str:
    text = json.dumps([row[name] for name in CONTENT], ensure_ascii=False, default=str)
    return hashlib.sha1(text.encode()).hexdigest()


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
        self.counts = {"written": 0, "kept": 0, "deleted": 0}

    def _scope(self, query: Any, site_ids: list[str]) -> Any:
        query = query.where(VerdictRow.site_id.in_(site_ids))
        return query if self.year is None else query.where(VerdictRow.report_year == self.year)

    def write(self, site_ids: list[str], verdicts: Iterable[Any]) -> None:
        rows: dict[tuple[str, str, int], dict[str, Any]] = {}
        for verdict in verdicts:
            row = {name: getattr(verdict, name) for name in CONTENT}
            row["warnings"], row["reasons"] = list(row["warnings"]), list(row["reasons"])
            row.update(site_id=verdict.site_id, report_year=verdict.report_year,
                       issuer_key=normalize_issuer(verdict.issuer))
            row["digest"] = _digest(row)
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
            if changed:
                insert = _INSERT[session.bind.dialect.name](VerdictRow)
                statement = insert.on_conflict_do_update(
                    index_elements=list(KEY),
                    set_={name: insert.excluded[name] for name in (*CONTENT, "digest")})
                stamp = {"as_of": self.as_of, "evaluated_at": self.started}
                session.execute(statement, [{**row, **stamp} for row in changed])
            session.execute(self._scope(update(VerdictRow), site_ids)
                            .values(as_of=self.as_of, evaluated_at=self.started))
        self.counts["written"] += len(changed)
        self.counts["kept"] += len(rows) - len(changed)
        self.counts["deleted"] += len(gone)

    def finish(self) -> dict[str, int]:
        """After a whole-sites-file evaluation, drop the verdicts of sites no longer in it."""
        if self.all_sites:
            query = delete(VerdictRow).where(VerdictRow.evaluated_at < self.started)
            if self.year is not None:
                query = query.where(VerdictRow.report_year == self.year)
            with Session(self.engine) as session, session.begin():
                self.counts["deleted"] += session.execute(query).rowcount or 0
        return self.counts
