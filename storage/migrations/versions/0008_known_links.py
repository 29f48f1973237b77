"""A detail page's links to follow, kept with its URL's state.

Revision ID: 0008_known_links
Revises: 0007_listings
Create Date: 2026-11-30

- ``resources.links``: what the spider read off a detail page to follow (its attachments, with
  their texts and dates, and the page's own dates), with the bytes, encoding and nianbao
  version it read them by; a recrawl that finds the page unchanged follows them without
  reading the archived page again. Pages crawled before have none: their next crawl reads them
  once more and keeps them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_known_links"
down_revision = "0007_listings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.add_column(sa.Column(
            "links", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("resources") as batch:
        batch.drop_column("links")
