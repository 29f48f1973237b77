"""The ``metric_labels`` table: every metric key with its Chinese table, row and column labels.

The labels live in ``nianbao.vocabulary.metrics`` (their one home); this copies them into the
database so that a reader of the SQLite file — Datasette, a notebook, a SQL client — sees
三 ·（三）不予公开 1.属于国家秘密 · 自然人 next to ``requests.withheld.state_secret.natural``
without knowing the code. ``sync_labels`` rewrites the table whenever it differs from the
vocabulary; ``migrate`` and the commands that show or export data call it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, delete, insert, select

from nianbao.storage.models import MetricLabelRow
from nianbao.vocabulary.metrics import metric_keys, metric_label


def label_rows() -> list[dict[str, Any]]:
    """One row per standard key of either format, in table order (2021 first)."""
    formats: dict[str, list[str]] = {}
    for fmt in ("2021", "2019"):
        for key in metric_keys(fmt):
            formats.setdefault(key, []).append(fmt)
    rows = []
    for position, (key, fmts) in enumerate(formats.items()):
        found = metric_label(key)
        if found is None:  # every standard key has a label (tests/test_vocabulary.py)
            continue
        rows.append({"key": key, "table_no": found.table, "row_label": found.row,
                     "column_label": found.column, "label": str(found),
                     "formats": ",".join(sorted(fmts)), "position": position})
    return rows


def sync_labels(engine: Engine) -> bool:
    """Make ``metric_labels`` equal to the vocabulary; whether anything had to change."""
    wanted = label_rows()
    columns = [getattr(MetricLabelRow, name) for name in wanted[0]]
    with engine.begin() as connection:
        stored = [dict(row._mapping) for row in connection.execute(
            select(*columns).order_by(MetricLabelRow.position))]
        if stored == wanted:
            return False
        connection.execute(delete(MetricLabelRow))
        connection.execute(insert(MetricLabelRow), wanted)
    return True
