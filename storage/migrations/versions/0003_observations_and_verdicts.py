"""Observations (what each crawl run saw of each report column) and the latest verdicts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Written by hand in the style of 0001 and 0002.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(column: str, table: str, referred: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], name=op.f(f"fk_{table}_{column}_{referred}")
    )


def upgrade() -> None:
    op.create_table(
        "observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crawl_run_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("column_url", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=True),
        _timestamp("observed_at"),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("moved", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("list_pages", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("vantage", sa.String(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        _fk("crawl_run_id", "observations", "crawl_runs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
    )
    op.create_index(op.f("ix_observations_crawl_run_id"), "observations", ["crawl_run_id"])
    op.create_index(op.f("ix_observations_site_id"), "observations", ["site_id"])
    op.create_table(
        "verdicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=True),
        sa.Column("issuer", sa.String(), nullable=False),
        sa.Column("issuer_key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("report_year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("published_date", sa.Date(), nullable=True),
        sa.Column("evidence", sa.String(), nullable=False),
        sa.Column("days_late", sa.Integer(), nullable=True),
        sa.Column("warnings", _json(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        _timestamp("evaluated_at"),
        _fk("issuer_id", "verdicts", "issuers"),
        _fk("version_id", "verdicts", "versions"),
        _fk("observation_id", "verdicts", "observations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verdicts")),
        sa.UniqueConstraint("site_id", "issuer_key", "report_year",
                            name=op.f("uq_verdicts_site_id_issuer_key_report_year")),
    )
    op.create_index(op.f("ix_verdicts_site_id"), "verdicts", ["site_id"])
    op.create_index(op.f("ix_verdicts_report_year"), "verdicts", ["report_year"])
    op.create_index(op.f("ix_verdicts_status"), "verdicts", ["status"])


def downgrade() -> None:
    op.drop_table("verdicts")
    op.drop_table("observations")
