"""Where a publication date comes from, and which source decides when several disagree.

A verdict of "late" must be checkable by a person, so every date keeps its source, and the
sources are ranked once, here: the page's PubDate meta first (what the CMS says it published),
the crawler's first sighting last (it proves only that the report existed by then).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date

FIRST_SEEN = "first-seen"
# Best first. Parser, storage, compliance and alerts all rank by this one list.
DATE_RANK = ("meta:PubDate", "visible", "signature", "url", "http:last-modified", FIRST_SEEN)
# Sources that state the publication day itself; a signature date may precede it by days.
PUBLICATION_SOURCES = ("meta:PubDate", "visible", "url")
# How each source is named to a reader of an alert, a page or an export.
SOURCE_LABELS = {
    "meta:PubDate": "网页元数据", "visible": "页面所示发布日期", "signature": "落款日期",
    "url": "网址中的日期", "http:last-modified": "服务器 Last-Modified", FIRST_SEEN: "首次抓取",
}


def source_label(source: str) -> str:
    return SOURCE_LABELS.get(source, source)


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def calendar_day(value: object) -> date | None:
    """The day a ``YYYY-MM-DD`` value names, or None when it names none. Pages print impossible
    dates (2月30日), and a stored record may hold one an older nianbao let through: such a value
    is no evidence of a date, and must not stop what reads the rest."""
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def published_date(evidence: Iterable[Mapping[str, str]]) -> str | None:
    """The publication date the best-ranked source states (``[{source, value}]``); a value that
    is no calendar day states nothing."""
    best: dict[str, str] = {}
    for item in evidence:
        if calendar_day(item["value"]) is not None:
            best.setdefault(item["source"], item["value"])
    return next((best[source] for source in DATE_RANK if source in best), None)


def deciding_source(evidence: Iterable[Mapping[str, str]], published: str | None) -> str | None:
    """The best-ranked source that states ``published`` (what decided the date)."""
    if not published:
        return None
    sources = [e.get("source") for e in evidence if e.get("value") == published]
    ranked = [s for s in DATE_RANK if s in sources]
    return (ranked or sources or [None])[0]
