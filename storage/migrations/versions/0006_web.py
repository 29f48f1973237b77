"""What the web app, the exports and Datasette read: triage marks, metric labels, a metrics
view, and JSON stored as readable UTF-8.

Revision ID: 0006_web
Revises: 0005
Create Date: 2026-11-30

- an index on ``verdicts.kind`` (the compliance page filters by issuer kind);
- ``triage_marks``: people's marks on verdicts and failed checks (append-only, keyed by what
  survives a recomputation: site, normalised issuer, year, check id).
- ``metric_labels``: each metric key's Chinese table/row/column labels; filled by
  ``nianbao.storage.labels.sync_labels`` (called by ``migrate`` after this upgrade).
- ``report_metrics`` view: one row per metric of each report's latest version, with its labels,
  so SQL readers need not unpack the 25 KB ``record`` JSON themselves.
- SQLite JSON columns written before this revision used ``\\uXXXX`` escapes for Chinese (the
  json module's default); they are rewritten as UTF-8, so ``LIKE '%晋城%'`` finds them.
  PostgreSQL's JSONB already stores text as text.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0006_web"
down_revision = "0005"
branch_labels = None
depends_on = None

# Every JSON column when this was written (table, column).
JSON_COLUMNS = {
    "sites": ("config",),
    "crawl_runs": ("sites", "stats"),
    "versions": ("date_evidence", "record", "checks", "warc_pointer", "changes", "key_figures",
                 "failed_checks"),
    "cross_year_results": ("checks",),
    "resources": ("warc_pointer",),
    "events": ("payload",),
    "subscriptions": ("sites", "regions", "issuers", "kinds"),
    "verdicts": ("warnings", "reasons"),
    "observations": ("entries",),
}
BATCH = 500

_VIEW_SELECT = """
SELECT r.id AS report_id, i.site_id AS site_id, i.name AS issuer, i.kind AS issuer_kind,
       r.report_year AS report_year, v.id AS version_id, v.format AS format,
       m.key AS metric, {value} AS value,
       l.table_no AS table_no, l.row_label AS row_label, l.column_label AS column_label
FROM reports r
JOIN issuers i ON i.id = r.issuer_id
JOIN versions v ON v.id = (SELECT max(v2.id) FROM versions v2 WHERE v2.report_id = r.id)
{each}
LEFT JOIN metric_labels l ON l.key = m.key
"""
VIEW = {
    "sqlite": _VIEW_SELECT.format(value="m.value",
                                  each="JOIN json_each(v.record, '$.metrics') m"),
    "postgresql": _VIEW_SELECT.format(
        value="CASE WHEN jsonb_typeof(m.value) = 'number' THEN (m.value #>> '{}')::numeric END",
        each="CROSS JOIN LATERAL jsonb_each(v.record -> 'metrics') m"),
}


def _readable_json(connection: sa.Connection) -> None:
    for table, columns in JSON_COLUMNS.items():
        for column in columns:
            last = 0
            while True:
                rows = connection.exec_driver_sql(
                    f"SELECT rowid, {column} FROM {table} WHERE rowid > ? "
                    f"AND instr({column}, '\\u') > 0 ORDER BY rowid LIMIT {BATCH}",
                    (last,)).all()
                if not rows:
                    break
                connection.exec_driver_sql(
                    f"UPDATE {table} SET {column} = ? WHERE rowid = ?",
                    [(json.dumps(json.loads(value), ensure_ascii=False), rowid)
                     for rowid, value in rows])
                last = rows[-1][0]


def upgrade() -> None:
    op.create_table(
        "triage_marks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("site_id", sa.String(), nullable=False),
        sa.Column("issuer_key", sa.String(), nullable=False),
        sa.Column("report_year", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("user", sa.String(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_marks")),
    )
    op.create_index("ix_triage_marks_target", "triage_marks",
                    ["site_id", "issuer_key", "report_year", "check_id"])
    op.create_table(
        "metric_labels",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("table_no", sa.String(), nullable=False),
        sa.Column("row_label", sa.String(), nullable=False),
        sa.Column("column_label", sa.String(), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("formats", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_metric_labels")),
    )
    op.create_index("ix_verdicts_kind", "verdicts", ["kind"])
    connection = op.get_bind()
    op.execute(f"CREATE VIEW report_metrics AS {VIEW[connection.dialect.name]}")
    if connection.dialect.name == "sqlite":
        _readable_json(connection)


def downgrade() -> None:
    op.execute("DROP VIEW report_metrics")
    op.drop_table("metric_labels")
    op.drop_index("ix_verdicts_kind", table_name="verdicts")
    op.drop_index("ix_triage_marks_target", table_name="triage_marks")
    op.drop_table("triage_marks")
