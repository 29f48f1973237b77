"""Listings of 100,000 verdicts that stream stored bytes.

Revision ID: 0007_listings
Revises: 0006_web
Create Date: 2026-11-30

- ``verdicts.as_json`` / ``as_csv``: each verdict as ``nianbao check`` prints it (``as_of``
  aside), written with the verdict, so a listing of an unchanged day builds nothing;
- ``verdict_sites.position``: the site's place in its evaluation (the listing's order, an
  index walk with no sort);
- ``verdict_stamps``: what the whole table was last computed from (see
  ``nianbao.storage.verdicts``);
- on SQLite, ``ix_versions_listing``: what listings and the compliance evaluation read of a
  version, so they never walk the overflow pages of the ``record`` stored before it in the
  row (PostgreSQL keeps large values out of line);
- ``ix_issuers_site_id_name``: ``nianbao reports`` in its order without a sort.

Stored verdicts have no rendering yet: their digests and site fingerprints are cleared, so the
next evaluation writes every row again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_listings"
down_revision = "0006_web"
branch_labels = None
depends_on = None


# nianbao.storage.models.LISTING_COLUMNS when this was written
LISTING_COLUMNS = ("report_id", "id", "first_seen", "crawl_run_id", "published_date",
                   "date_source", "format", "url", "warc_file", "warc_offset", "warc_length",
                   "warc_record_id", "warc_pointer", "failed_checks", "key_figures",
                   "date_evidence")


def upgrade() -> None:
    with op.batch_alter_table("verdicts") as batch:
        batch.add_column(sa.Column("as_json", sa.LargeBinary(), nullable=False,
                                   server_default=sa.text("''")))
        batch.add_column(sa.Column("as_csv", sa.LargeBinary(), nullable=False,
                                   server_default=sa.text("''")))
    with op.batch_alter_table("verdict_sites") as batch:
        batch.add_column(sa.Column("position", sa.Integer(), nullable=False, server_default="0"))
        batch.create_index("ix_verdict_sites_position_site_id", ["position", "site_id"],
                           unique=True)
    op.create_table(
        "verdict_stamps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("report_year", sa.Integer(), nullable=True),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verdict_stamps")),
    )
    op.create_index("ix_issuers_site_id_name", "issuers", ["site_id", "name"])
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("ix_versions_listing", "versions", list(LISTING_COLUMNS))
    op.execute("UPDATE verdicts SET digest = ''")
    op.execute("DELETE FROM verdict_sites")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index("ix_versions_listing", table_name="versions")
    op.drop_index("ix_issuers_site_id_name", table_name="issuers")
    op.drop_table("verdict_stamps")
    with op.batch_alter_table("verdict_sites") as batch:
        batch.drop_index("ix_verdict_sites_position_site_id")
        batch.drop_column("position")
    with op.batch_alter_table("verdicts") as batch:
        batch.drop_column("as_csv")
        batch.drop_column("as_json")
