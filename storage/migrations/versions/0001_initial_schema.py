"""Initial schema: sites, issuers, reports and their versions, crawl runs and crawl state.

Revision ID: 0001
Revises:
Create Date: 2026-11-21

Written from an autogenerate run and reviewed by hand. Column types are spelled out here
rather than imported from ``nianbao.storage.types`` so this file keeps meaning the same when
the models change: timestamps are ``DateTime(timezone=True)`` (the models add UTC handling in
Python only).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), nullable=False)


def _fk(column: str, table: str, referred: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.id"], name=op.f(f"fk_{table}_{column}_{referred}")
    )


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("region", sa.String(), nullable=True),
        sa.Column("config", _json(), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
    )
    op.create_table(
        "crawl_runs",
        _id(),
        _timestamp("started_at"),
        _timestamp("finished_at", nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("sites", _json(), nullable=False),
        sa.Column("stats", _json(), nullable=False),
        sa.Column("bytes_received", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crawl_runs")),
    )
    op.create_table(
        "issuers",
        _id(),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("site_id", sa.String(), nullable=True),
        sa.Column("kind", sa.String(), nullable=True),
        _timestamp("created_at"),
        _fk("site_id", "issuers", "sites"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuers")),
    )
    op.create_index(op.f("ix_issuers_site_id"), "issuers", ["site_id"])
    op.create_table(
        "issuer_aliases",
        _id(),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("alias", sa.String(), nullable=False),
        sa.Column("normalized", sa.String(), nullable=False),
        _fk("issuer_id", "issuer_aliases", "issuers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuer_aliases")),
        sa.UniqueConstraint(
            "scope", "normalized", name=op.f("uq_issuer_aliases_scope_normalized")
        ),
    )
    op.create_index(op.f("ix_issuer_aliases_issuer_id"), "issuer_aliases", ["issuer_id"])
    op.create_table(
        "reports",
        _id(),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("report_year", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        _fk("issuer_id", "reports", "issuers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint(
            "issuer_id", "report_year", name=op.f("uq_reports_issuer_id_report_year")
        ),
    )
    op.create_table(
        "versions",
        _id(),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("payload_digest", sa.String(), nullable=False),
        _timestamp("first_seen"),
        _timestamp("last_seen"),
        sa.Column("published_date", sa.Date(), nullable=True),
        sa.Column("date_evidence", _json(), nullable=False),
        sa.Column("record", _json(), nullable=False),
        sa.Column("checks", _json(), nullable=False),
        sa.Column("format", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=True),
        sa.Column("content_type", sa.String(), nullable=True),
        sa.Column("warc_file", sa.String(), nullable=True),
        sa.Column("warc_offset", sa.BigInteger(), nullable=True),
        sa.Column("warc_length", sa.BigInteger(), nullable=True),
        sa.Column("warc_record_id", sa.String(), nullable=True),
        sa.Column("warc_pointer", _json(), nullable=True),
        sa.Column("crawl_run_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("previous_version_id", sa.Integer(), nullable=True),
        sa.Column("changes", _json(), nullable=False),
        _timestamp("created_at"),
        _fk("report_id", "versions", "reports"),
        _fk("crawl_run_id", "versions", "crawl_runs"),
        _fk("previous_version_id", "versions", "versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_versions")),
        sa.UniqueConstraint(
            "report_id", "url", "content_hash",
            name=op.f("uq_versions_report_id_url_content_hash"),
        ),
    )
    op.create_index(op.f("ix_versions_crawl_run_id"), "versions", ["crawl_run_id"])
    op.create_table(
        "cross_year_results",
        _id(),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("earlier_year", sa.Integer(), nullable=False),
        sa.Column("later_year", sa.Integer(), nullable=False),
        sa.Column("earlier_version_id", sa.Integer(), nullable=False),
        sa.Column("later_version_id", sa.Integer(), nullable=False),
        sa.Column("checks", _json(), nullable=False),
        _timestamp("computed_at"),
        _fk("issuer_id", "cross_year_results", "issuers"),
        _fk("earlier_version_id", "cross_year_results", "versions"),
        _fk("later_version_id", "cross_year_results", "versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cross_year_results")),
        sa.UniqueConstraint(
            "earlier_version_id", "later_version_id",
            name=op.f("uq_cross_year_results_earlier_version_id_later_version_id"),
        ),
    )
    op.create_index(op.f("ix_cross_year_results_issuer_id"), "cross_year_results", ["issuer_id"])
    op.create_index(
        op.f("ix_cross_year_results_later_version_id"), "cross_year_results", ["later_version_id"]
    )
    op.create_table(
        "fetch_failures",
        _id(),
        sa.Column("crawl_run_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        _timestamp("at"),
        _fk("crawl_run_id", "fetch_failures", "crawl_runs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fetch_failures")),
    )
    op.create_index(op.f("ix_fetch_failures_crawl_run_id"), "fetch_failures", ["crawl_run_id"])
    op.create_table(
        "resources",
        _id(),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("etag", sa.String(), nullable=True),
        sa.Column("last_modified", sa.String(), nullable=True),
        sa.Column("payload_digest", sa.String(), nullable=True),
        sa.Column("list_entry", sa.String(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("warc_file", sa.String(), nullable=True),
        sa.Column("warc_offset", sa.BigInteger(), nullable=True),
        sa.Column("warc_pointer", _json(), nullable=True),
        sa.Column("content_type", sa.String(), nullable=True),
        _timestamp("fetched_at", nullable=True),
        _timestamp("checked_at", nullable=True),
        _fk("version_id", "resources", "versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resources")),
        sa.UniqueConstraint("url", name=op.f("uq_resources_url")),
    )


def downgrade() -> None:
    for table in (
        "resources", "fetch_failures", "cross_year_results", "versions", "reports",
        "issuer_aliases", "issuers", "crawl_runs", "sites",
    ):
        op.drop_table(table)  # their indexes go with them
