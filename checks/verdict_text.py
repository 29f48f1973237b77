"""A verdict as ``nianbao check`` prints it: JSON Lines and CSV, the same ``FIELDS`` in both.

Both forms end with ``as_of``, the day judged, so each verdict is rendered once without it
(``render``: a JSON object, a CSV row without its line end) when it is judged; the ``verdicts``
table keeps those bytes and a line is the stored bytes plus the day (``json_line``,
``csv_line``). A listing of an unchanged day streams what is stored, and a verdict judged now
prints through the same bytes, so the two cannot differ. CSV cells are neutralised for
spreadsheets (``nianbao.escaping.csv_row``) before they are rendered.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from operator import attrgetter
from typing import Any

import orjson

from nianbao.escaping import csv_row

FIELDS = ("site_id", "issuer_id", "issuer", "kind", "report_year", "status", "deadline",
          "grace_days", "published_date", "evidence", "days_late", "warnings", "version_id",
          "url", "explanation", "observation_id", "observation", "reasons", "as_of")
HEADER = (",".join(FIELDS) + "\r\n").encode()  # no field name needs quoting
_VALUES = attrgetter(*FIELDS[:-1])
_LISTS = (FIELDS.index("warnings"), FIELDS.index("reasons"))
_LINE_END = "\r\n"  # csv.writer's default, which the printed CSV has always used


def csv_values(verdict: Any) -> list[Any]:
    """The CSV cells of ``FIELDS`` but ``as_of``: lists joined with "; ", None empty."""
    values = list(_VALUES(verdict))
    for i in _LISTS:
        values[i] = "; ".join(values[i])
    return values


class Renderer:
    """A verdict (an object with the fields of ``FIELDS`` but ``as_of``; orjson writes the
    ``Verdict`` dataclass field by field, in that order) → its stored forms."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator=_LINE_END)

    def __call__(self, verdict: Any) -> dict[str, bytes]:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(csv_row(csv_values(verdict)))
        row = self._buffer.getvalue()[:-len(_LINE_END)]
        # orjson's result keeps its whole working buffer (some 8 KB); a batch of verdicts holds
        # thousands of them, so each is copied to its own size.
        return {"as_json": bytes(memoryview(orjson.dumps(verdict))), "as_csv": row.encode()}


def json_tail(as_of: date) -> bytes:
    """What follows a stored JSON object (its closing brace taken off) to make the line."""
    return b',"as_of":"' + as_of.isoformat().encode() + b'"}\n'


def csv_tail(as_of: date) -> bytes:
    """What follows a stored CSV row to make the line (a day's ISO form needs no quoting)."""
    return b"," + as_of.isoformat().encode() + _LINE_END.encode()


def json_line(stored: bytes, tail: bytes) -> bytes:
    return stored[:-1] + tail


def csv_line(stored: bytes, tail: bytes) -> bytes:
    return stored + tail
