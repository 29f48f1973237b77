"""From a homepage to its 政府信息公开年报 column: which links lead there, and how the column
page is recognised (its ``ColumnName`` meta, its title, or its URL slug). The names and slugs
are the report vocabulary's (``nianbao.vocabulary.titles``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.http import TextResponse

from nianbao.crawler.links import Link
from nianbao.vocabulary.titles import (
    COLUMN_PAGE_TITLE,
    COLUMN_SLUG,
    COLUMN_TITLE,
    DISCLOSURE_TITLE,
)

_COLUMN_META = "//meta[translate(@name,'COLUMNAME','columname')='columnname']/@content"
MAX_PORTAL_HOPS = 2  # 政务公开 → 信息公开 → … pages followed before the column must show


def is_report_column(response: TextResponse) -> bool:
    """True when this page is a 年报 column (a list of reports), not a page on the way."""
    names = " ".join(response.xpath(_COLUMN_META).getall())
    title = " ".join(response.xpath("//title//text()").getall())
    return bool(COLUMN_TITLE.search(names) or COLUMN_PAGE_TITLE.search(title)
                or COLUMN_SLUG.search(urlsplit(response.url).path))


def leads_to_column(link: Link) -> bool:
    """A link named or shaped like the 年报 column."""
    return bool(COLUMN_TITLE.search(link.text) or COLUMN_SLUG.search(urlsplit(link.url).path))


def leads_to_portal(link: Link, hops: int) -> bool:
    """A 政务公开 / 信息公开 link worth following while still near the homepage."""
    return bool(DISCLOSURE_TITLE.search(link.text)) and hops < MAX_PORTAL_HOPS
