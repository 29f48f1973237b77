"""Triage marks: an auditor's confirmed / dismissed / excused on a verdict or a failed check.

A mark names its target by keys a recomputation keeps (site, normalised issuer, report year,
check id), so the verdicts table may be rewritten every morning and the marks still apply.
Marks are appended; the newest per target is the current one and the rest is its history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, tuple_
from sqlalchemy.orm import Session

from nianbao.storage.models import TriageMark
from nianbao.vocabulary.issuers import normalize_issuer

STATUSES = {"confirmed": "已确认", "dismissed": "已驳回", "excused": "已豁免"}
TARGETS = ("verdict", "check")
NOTE_CHARS = 2000


@dataclass(frozen=True)
class Mark:
    target: str
    site_id: str
    issuer_key: str
    report_year: int
    check_id: str
    status: str
    note: str
    user: str
    marked_at: datetime

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "site_id": self.site_id, "issuer_key": self.issuer_key,
                "report_year": self.report_year, "check_id": self.check_id or None,
                "status": self.status, "note": self.note, "user": self.user,
                "marked_at": self.marked_at.isoformat()}


def _mark(row: TriageMark) -> Mark:
    return Mark(row.target, row.site_id, row.issuer_key, row.report_year, row.check_id,
                row.status, row.note, row.user, row.marked_at)


def add_mark(engine: Engine, *, site_id: str, issuer: str, report_year: int, status: str,
             user: str, note: str = "", check_id: str = "") -> Mark:
    """Record a mark; ``issuer`` is the name as shown (normalised here). Raises ValueError
    for an unknown status or an empty user."""
    if status not in STATUSES:
        raise ValueError(f"unknown triage status {status!r}")
    if not user:
        raise ValueError("a triage mark needs a user")
    row = TriageMark(target="check" if check_id else "verdict", site_id=site_id,
                     issuer_key=normalize_issuer(issuer), report_year=report_year,
                     check_id=check_id, status=status, note=note[:NOTE_CHARS], user=user)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        session.add(row)
    return _mark(row)


def current_marks(session: Session, keys: Iterable[tuple[str, str, int]]
                  ) -> dict[tuple[str, str, int, str], Mark]:
    """The newest mark of each target of these (site, issuer key, year) triples, keyed by
    (site, issuer key, year, check id — '' for the verdict itself)."""
    keys = list(set(keys))
    out: dict[tuple[str, str, int, str], Mark] = {}
    for start in range(0, len(keys), 300):
        chunk = keys[start:start + 300]
        rows = session.scalars(select(TriageMark).where(
            tuple_(TriageMark.site_id, TriageMark.issuer_key, TriageMark.report_year)
            .in_(chunk)).order_by(TriageMark.id))
        for row in rows:
            out[(row.site_id, row.issuer_key, row.report_year, row.check_id)] = _mark(row)
    return out


def history(session: Session, site_id: str, issuer_key: str, report_year: int) -> list[Mark]:
    """Every mark on this verdict and its checks, oldest first."""
    return [_mark(row) for row in session.scalars(select(TriageMark).where(
        TriageMark.site_id == site_id, TriageMark.issuer_key == issuer_key,
        TriageMark.report_year == report_year).order_by(TriageMark.id))]


def all_current(session: Session) -> list[Mark]:
    """The current mark of every target (for the export)."""
    newest = (select(func.max(TriageMark.id)).group_by(
        TriageMark.site_id, TriageMark.issuer_key, TriageMark.report_year, TriageMark.check_id))
    return [_mark(row) for row in session.scalars(
        select(TriageMark).where(TriageMark.id.in_(newest)).order_by(TriageMark.id))]
