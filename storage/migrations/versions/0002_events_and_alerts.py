"""Events and alerts: what happened, who subscribed to it, and each message owed to them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

Written by hand in the style of 0001 (types spelled out, constraint names from the naming
convention). ``deliveries`` carries the two unique pairs that make alerts exactly-once: one row
per (event, subscription) and one per (subscription, digest day).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
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
        "events",
        _id(),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=True),
        sa.Column("report_year", sa.Integer(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("crawl_run_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        _timestamp("occurred_at"),
        _fk("issuer_id", "events", "issuers"),
        _fk("version_id", "events", "versions"),
        _fk("crawl_run_id", "events", "crawl_runs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_events_dedupe_key")),
    )
    op.create_index(op.f("ix_events_site_id"), "events", ["site_id"])
    op.create_index(op.f("ix_events_occurred_at"), "events", ["occurred_at"])
    op.create_table(
        "subscriptions",
        _id(),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=False),
        sa.Column("sites", _json(), nullable=False),
        sa.Column("regions", _json(), nullable=False),
        sa.Column("issuers", _json(), nullable=False),
        sa.Column("kinds", _json(), nullable=False),
        sa.Column("keyword", sa.String(), nullable=True),
        sa.Column("mode", sa.String(), nullable=False),
        _timestamp("created_at"),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint("name", name=op.f("uq_subscriptions_name")),
    )
    op.create_table(
        "deliveries",
        _id(),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("digest_day", sa.Date(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _timestamp("next_attempt_at", nullable=True),
        _timestamp("sent_at", nullable=True),
        _fk("event_id", "deliveries", "events"),
        _fk("subscription_id", "deliveries", "subscriptions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint(
            "event_id", "subscription_id", name=op.f("uq_deliveries_event_id_subscription_id")
        ),
        sa.UniqueConstraint(
            "subscription_id", "digest_day",
            name=op.f("uq_deliveries_subscription_id_digest_day"),
        ),
    )


def downgrade() -> None:
    for table in ("deliveries", "subscriptions", "events"):
        op.drop_table(table)  # their indexes go with them
