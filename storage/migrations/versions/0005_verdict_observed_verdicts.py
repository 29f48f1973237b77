"""Verdicts that rest on observations, events written with their versions, baselines, and the
small extracts and indexes that let listings of 100,000 reports skip full records.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

- ``versions``: ``key_figures``, ``failed_checks`` and ``date_source``, filled here from each
  stored record (the key list and the date ranking below are frozen copies of the ones in
  force today, as a migration must not change meaning when the code moves on); indexes for
  the earliest and the latest version of a report.
- ``events.baseline``; ``subscriptions.starts_at``, ``baseline`` and ``event_cursor``;
  ``deliveries.baseline_site`` / ``baseline_run_id`` (one baseline digest per subscription ×
  site × baseline run); ``crawl_runs.events_recorded_at``.
- ``verdicts``: ``observation`` (in words), ``reasons``, a content ``digest`` and the row's
  ``position`` in its site's evaluation; ``verdict_sites``: what each site's verdicts were
  computed from, so an unchanged site is read back instead of recomputed.
- an index on ``fetch_failures.site_id`` (a reading counts the unread items of its site).
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

KEY_FIGURES = (  # nianbao.vocabulary.figures.KEY_FIGURES when this was written
    "requests.new.total", "requests.carried_over.total", "requests.granted.total",
    "requests.partial.total", "requests.handled_total.total", "requests.carried_forward.total",
    "review.total", "review.corrected", "litigation.direct.total",
    "litigation.after_review.total",
)
DATE_RANK = ("meta:PubDate", "visible", "signature", "url", "http:last-modified", "first-seen")
BATCH = 500


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _extracts(record: dict) -> dict:
    metrics = record.get("metrics") or {}
    failed = [c.get("id") for c in record.get("checks") or []
              if c.get("severity") == "error" and c.get("ok") is False]
    published = record.get("published_date")
    sources = [e.get("source") for e in record.get("date_evidence") or []
               if published and e.get("value") == published]
    ranked = [s for s in DATE_RANK if s in sources]
    return {"key_figures": {k: metrics.get(k) for k in KEY_FIGURES}, "failed_checks": failed,
            "date_source": (ranked or sources or [None])[0]}


def _fill_versions() -> None:
    connection = op.get_bind()
    versions = sa.table("versions", sa.column("id", sa.Integer), sa.column("record", _json()),
                        sa.column("key_figures", _json()), sa.column("failed_checks", _json()),
                        sa.column("date_source", sa.String))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(versions.c.id, versions.c.record).where(versions.c.id > last)
            .order_by(versions.c.id).limit(BATCH)).all()
        if not rows:
            return
        for version_id, record in rows:
            record = json.loads(record) if isinstance(record, str) else record or {}
            connection.execute(versions.update().where(versions.c.id == version_id)
                               .values(**_extracts(record)))
        last = rows[-1][0]


def upgrade() -> None:
    with op.batch_alter_table("versions") as batch:
        batch.add_column(sa.Column("key_figures", _json(), nullable=True))
        batch.add_column(sa.Column("failed_checks", _json(), nullable=True))
        batch.add_column(sa.Column("date_source", sa.String(), nullable=True))
    _fill_versions()
    with op.batch_alter_table("versions") as batch:
        batch.alter_column("key_figures", existing_type=_json(), nullable=False)
        batch.alter_column("failed_checks", existing_type=_json(), nullable=False)
        batch.create_index("ix_versions_report_id_first_seen_id",
                           ["report_id", "first_seen", "id"])
        batch.create_index("ix_versions_report_id_id", ["report_id", "id"])
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("baseline", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("baseline", sa.String(), nullable=True))
        batch.add_column(sa.Column("event_cursor", sa.Integer(), nullable=False,
                                   server_default="0"))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("baseline_site", sa.String(), nullable=True))
        batch.add_column(sa.Column("baseline_run_id", sa.Integer(), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_deliveries_subscription_id_baseline_site_baseline_run_id"),
            ["subscription_id", "baseline_site", "baseline_run_id"])
    with op.batch_alter_table("crawl_runs") as batch:
        batch.add_column(sa.Column("events_recorded_at", sa.DateTime(timezone=True),
                                   nullable=True))
    with op.batch_alter_table("verdicts") as batch:
        batch.add_column(sa.Column("observation", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("reasons", _json(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("digest", sa.String(), nullable=False, server_default=""))
        batch.add_column(sa.Column("position", sa.Integer(), nullable=False, server_default="0"))
        batch.create_index("ix_verdicts_site_id_position", ["site_id", "position"])
    op.create_table(
        "verdict_sites",
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("report_year", sa.Integer(), nullable=True),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_verdict_sites")),
    )
    op.create_index(op.f("ix_fetch_failures_site_id"), "fetch_failures", ["site_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_fetch_failures_site_id"), table_name="fetch_failures")
    op.drop_table("verdict_sites")
    with op.batch_alter_table("verdicts") as batch:
        batch.drop_index("ix_verdicts_site_id_position")
        for name in ("position", "digest", "reasons", "observation"):
            batch.drop_column(name)
    with op.batch_alter_table("crawl_runs") as batch:
        batch.drop_column("events_recorded_at")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint(
            op.f("uq_deliveries_subscription_id_baseline_site_baseline_run_id"), type_="unique")
        batch.drop_column("baseline_run_id")
        batch.drop_column("baseline_site")
    with op.batch_alter_table("subscriptions") as batch:
        for name in ("event_cursor", "baseline", "starts_at"):
            batch.drop_column(name)
    with op.batch_alter_table("events") as batch:
        batch.drop_column("baseline")
    with op.batch_alter_table("versions") as batch:
        batch.drop_index("ix_versions_report_id_id")
        batch.drop_index("ix_versions_report_id_first_seen_id")
        for name in ("date_source", "failed_checks", "key_figures"):
            batch.drop_column(name)
