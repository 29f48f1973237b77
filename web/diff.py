"""What differs between any two versions of a report: figure by figure, and in the text.

The figure diff compares every metric key of the two records (a key only one of them has
counts as changed from or to 未填), plus the fields a reader cites (title, dates, format,
issuer). The text diff compares each narrative section sentence by sentence (difflib), so a
changed figure in a sentence shows as that sentence before and after, not as a whole page.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from nianbao.vocabulary.metrics import label

FIELDS = {"title": "标题", "issuer": "发布机关", "report_year": "年度", "format": "格式",
          "published_date": "发布日期"}
_SENTENCE = re.compile(r"(?<=[。；！？\n])")


@dataclass(frozen=True)
class FigureChange:
    key: str
    label: str
    before: Any
    after: Any


@dataclass(frozen=True)
class TextLine:
    op: str  # same | removed | added | gap
    text: str


def figure_changes(before: dict[str, Any], after: dict[str, Any]) -> list[FigureChange]:
    out = [FigureChange(name, text, before.get(name), after.get(name))
           for name, text in FIELDS.items() if before.get(name) != after.get(name)]
    old, new = before.get("metrics") or {}, after.get("metrics") or {}
    order = list(old) + [k for k in new if k not in old]
    for key in order:
        if old.get(key) != new.get(key):  # 3 and 3.0 are the same figure
            out.append(FigureChange(key, label(key), old.get(key), new.get(key)))
    return out


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text or "") if s.strip()]


def text_changes(before: dict[str, Any], after: dict[str, Any], context: int = 1
                 ) -> dict[str, list[TextLine]]:
    """Per section whose text differs: the changed sentences with ``context`` around them."""
    old, new = before.get("sections") or {}, after.get("sections") or {}
    out: dict[str, list[TextLine]] = {}
    for name in sorted(old.keys() | new.keys()):
        a, b = _sentences(old.get(name) or ""), _sentences(new.get(name) or "")
        if a == b:
            continue
        lines: list[TextLine] = []
        for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(
                context):
            for op, i1, i2, j1, j2 in group:
                if op == "equal":
                    lines += [TextLine("same", s) for s in a[i1:i2]]
                    continue
                lines += [TextLine("removed", s) for s in a[i1:i2]]
                lines += [TextLine("added", s) for s in b[j1:j2]]
            lines.append(TextLine("gap", "…"))
        out[name] = lines[:-1]
    return out
