"""Reading one table cell: its number, or why it has none.

Real reports write counts with full-width digits, thousands separators, stray spaces, units,
decimals in 万元 and negative 本年增/减, and they leave cells blank or write ``/``, ``—`` or
``无``. A cell is never silently zero: it gets a value *and* a class (``NUMERIC``, ``ZERO``,
``EMPTY``, ``NA``, ``TEXT``, ``MISSING``) so a reader of the record can tell the cases apart.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

NA_MARKS = {"/", "／", "\\", "-", "—", "——", "–", "－", "―", "无", "無", "空", "不适用", "×", "x"}
_NUMBER = re.compile(r"^[+\-]?\d+(\.\d+)?$")
_UNIT = re.compile(r"(件|个|项|条|次|人|万元|元|起)$")
_SPACES = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")


def _normalise(text: str) -> str:
    if not text.isascii():  # ASCII text, most cells, is its own NFKC form
        text = unicodedata.normalize("NFKC", text)
    return _SPACES.sub("", text)


_remembered = lru_cache(maxsize=4096)(_normalise)
_REMEMBERED_CHARS = 1000  # a long paragraph; longer texts are not kept


def normalise_text(text: str) -> str:
    """NFKC (full-width digits and punctuation to ASCII) and whitespace removed.

    The same texts come back: every paragraph is normalised by the metadata, the sections and
    the table reader, and cell texts and labels recur in every report; texts up to a long
    paragraph's length are remembered (NFKC's check of every character is the cost).
    """
    return _remembered(text) if len(text) <= _REMEMBERED_CHARS else _normalise(text)


def clean_label(text: str) -> str:
    """A label for matching: normalised, with quotes unified and spaces dropped."""
    t = normalise_text(text)
    return t.replace("“", '"').replace("”", '"').replace("「", '"').replace("」", '"')


@dataclass(frozen=True)
class CellValue:
    raw: str | None
    semantic: str  # NUMERIC, ZERO, EMPTY, NA, TEXT, MISSING
    value: int | float | None

    def as_dict(self) -> dict[str, object]:
        return {"raw": self.raw, "semantic": self.semantic}


MISSING = CellValue(None, "MISSING", None)


# Past this, JSON readers (the store's among them) cannot carry an integer exactly, and no
# count or sum in a report comes near it: such a "number" is digits run together (a CMS or
# extraction fault), read as TEXT rather than stored as a figure nothing can hold.
_LARGEST_EXACT = 2**53 - 1


def _bare(text: str) -> str:
    """A normalised cell text without thousands separators and a trailing unit."""
    return _UNIT.sub("", text.replace(",", "").replace("，", ""))


def _number(text: str) -> int | float | None:
    t = _bare(text)
    if not _NUMBER.match(t):
        return None
    if "." in t:
        f = float(t)
        n = int(f) if f.is_integer() and not t.split(".")[1].strip("0") else f
    else:
        n = int(t)
    return n if abs(n) <= _LARGEST_EXACT else None


def read_cell(raw: str) -> CellValue:
    """Classify a cell's text and read its number when it has one."""
    t = normalise_text(raw)
    if t == "":
        return CellValue(raw, "EMPTY", None)
    if t in NA_MARKS:
        return CellValue(raw, "NA", None)
    n = _number(t)
    if n is None:
        return CellValue(raw, "TEXT", None)
    return CellValue(raw, "ZERO" if n == 0 else "NUMERIC", n)


# A number with a doubled or mixed sign ("--253", "+-3"): a value cell that cannot be read.
_MALFORMED_NUMBER = re.compile(r"^[+\-\u2212－—]{2,}\d[\d,]*(?:\.\d+)?$")
_NUMBER_START = frozenset("+-\u2212－—0123456789")  # what either of the two can begin with


def is_value_text(raw: str) -> bool:
    """True for text that belongs in a value cell (a number, a dash, blank) rather than a label.

    A malformed number such as ``--253``, or digits past what a figure can be, is not a label
    either: it holds a value's place in its row (so the row keeps its columns) while staying
    ``TEXT`` with no value.
    """
    if read_cell(raw).semantic != "TEXT":
        return True
    t = normalise_text(raw)
    if t[:1] in _NUMBER_START:  # not a label's first character: worth the two tests
        return bool(_MALFORMED_NUMBER.match(t) or _NUMBER.match(_bare(t)))
    return False


def _is_wide(ch: str) -> bool:
    """CJK and full-width characters, and the dashes and curly quotes Chinese text uses."""
    code = ord(ch)
    return code >= 0x2E80 or 0x2010 <= code <= 0x206F


def collapse(text: str) -> str:
    """Collapse whitespace the way a cell label is read: "结果\\n纠正" -> "结果纠正".

    Whitespace between two Latin tokens becomes one space; whitespace touching a CJK character
    (or full-width punctuation, curly quotes, dashes) is an artefact of wrapping and is dropped.
    """
    out = ""
    for token in text.split():
        if out and not _is_wide(out[-1]) and not _is_wide(token[0]):
            out += " "
        out += token
    return out
