"""Each report's current cross-year failed checks, kept with the report.

Revision ID: 0009_report_cross_year_failed
Revises: 0008_known_links
Create Date: 2026-11-30

- ``reports.cross_year_failed``: the failed check ids of the report's current cross-year
  results (between its latest version and the latest versions of the neighbouring years), by
  earlier year, each once — what ``nianbao reports`` lists after the latest version's own
  failed checks, kept by the store (``nianbao.storage.cross_year``) so listings join nothing.
  Filled here from the stored cross-year results.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0009_report_cross_year_failed"
down_revision = "0008_known_links"
branch_labels = None
depends_on = None

BATCH = 1000
JSON_TYPE = sa.JSON().with_variant(JSONB(), "postgresql")
# the tables as they are at this revision (only what is read or written here)
reports = sa.table("reports", sa.column("id", sa.Integer),
                   sa.column("cross_year_failed", JSON_TYPE))
versions = sa.table("versions", sa.column("id", sa.Integer), sa.column("report_id", sa.Integer))
results = sa.table("cross_year_results", sa.column("id", sa.Integer),
                   sa.column("earlier_year", sa.Integer),
                   sa.column("earlier_version_id", sa.Integer),
                   sa.column("later_version_id", sa.Integer), sa.column("checks", JSON_TYPE))


def _is_latest(version: Any) -> Any:
    other = versions.alias()
    return version.c.id == (sa.select(sa.func.max(other.c.id))
                            .where(other.c.report_id == version.c.report_id).scalar_subquery())


def _current() -> Any:
    """Every current cross-year result once for the report of each end, by report, earlier
    year and result (as ``nianbao.storage.cross_year`` reads them)."""
    earlier, later = versions.alias("earlier"), versions.alias("later")

    def side(end: Any) -> Any:
        return (sa.select(end.c.report_id.label("report_id"), results.c.earlier_year,
                          results.c.id, results.c.checks)
                .select_from(results)
                .join(earlier, earlier.c.id == results.c.earlier_version_id)
                .join(later, later.c.id == results.c.later_version_id)
                .where(_is_latest(earlier), _is_latest(later)))

    both = sa.union_all(side(earlier), side(later)).subquery()
    return sa.select(both).order_by(both.c.report_id, both.c.earlier_year, both.c.id)


def upgrade() -> None:
    op.add_column("reports", sa.Column("cross_year_failed", JSON_TYPE, nullable=False,
                                       server_default=sa.text("'[]'")))
    connection = op.get_bind()
    update = (reports.update().where(reports.c.id == sa.bindparam("report"))
              .values(cross_year_failed=sa.bindparam("failed")))
    batch: list[dict[str, Any]] = []
    rows = connection.execute(_current(), execution_options={"yield_per": BATCH})
    for report_id, group in groupby(rows, key=lambda row: row.report_id):
        failed = [c["id"] for row in group for c in row.checks if not c["ok"]]
        if failed:
            batch.append({"report": report_id, "failed": list(dict.fromkeys(failed))})
        if len(batch) >= BATCH:
            connection.execute(update, batch)
            batch = []
    if batch:
        connection.execute(update, batch)


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN on both (SQLite >= 3.35): a batch rebuild of ``reports``
    # would drop a table the versions refer to
    op.drop_column("reports", "cross_year_failed")
