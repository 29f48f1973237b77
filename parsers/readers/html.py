"""Report pages as CMS portals serve them.

Tables are read from the DOM here, row by row, because trafilatura flattens spans: a ``<tr>``
holds exactly the cells that start in it, which is what the table reader expects. Only leaf
tables count (old portals lay pages out with tables that contain the report's tables). The main
text comes from trafilatura, which drops navigation and footers; the page's 47号 meta tags and
its visible 发布日期 become metadata and date evidence.
"""

from __future__ import annotations

import re

import lxml.html
import trafilatura
from lxml import etree

from parsers.document import DateEvidence, Document, Paragraph, Table
from parsers.errors import ParseError
from parsers.metadata import iso_date

_WS = re.compile(r"[\s\u00a0\u3000]+")
_CJK_GAP = re.compile(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])")
_VISIBLE_DATE = re.compile(
    r"(?:发布|公开|成文)(?:日期|时间)\s*[:：]?\s*((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})"
)
META_NAMES = (
    "ArticleTitle",
    "PubDate",
    "ColumnName",
    "ColumnType",
    "SiteName",
    "SiteDomain",
    "SiteIDCode",
    "ContentSource",
    "Keywords",
    "Author",
    "Description",
    "Url",
)
MAX_DEPTH = 255  # libxml2's own limit for HTML; deeper pages are refused, not truncated quietly


def cell_text(el: etree._Element) -> str:
    text = _WS.sub(" ", " ".join(el.itertext())).strip()
    return _CJK_GAP.sub("", text)


def _leaf_tables(root: etree._Element) -> list[Table]:
    tables = []
    for table in root.iter("table"):
        if table.find(".//table") is not None:
            continue
        rows = []
        for tr in table.iter("tr"):
            rows.append([cell_text(td) for td in tr if td.tag in ("td", "th")])
        if any(any(c for c in r) for r in rows):
            tables.append(Table(rows=rows, positional=True))
    return tables


def _meta(root: etree._Element) -> dict[str, str]:
    found = {}
    wanted = {n.lower(): n for n in META_NAMES}
    for m in root.iter("meta"):
        name = (m.get("name") or "").strip().lower()
        if name in wanted and m.get("content"):
            found[wanted[name]] = m.get("content").strip()
    return found


_TOO_DEEP = etree.XPath("/" + "/".join(["*"] * MAX_DEPTH))


def _dom_text(html: str) -> str:
    body = lxml.html.document_fromstring(html)
    blocks = body.xpath("//p|//h1|//h2|//h3|//h4|//li|//pre")
    return "\n".join(cell_text(b) for b in blocks if not b.xpath("ancestor::table"))


def _paragraphs(html: str, root: etree._Element) -> list[Paragraph]:
    """Main text by trafilatura (which prunes ``root``: call it last), else the DOM's blocks."""
    text = trafilatura.extract(
        root, include_tables=False, include_comments=False, favor_recall=True, fast=True
    ) or _dom_text(html)
    return [Paragraph(t.strip()) for t in text.split("\n") if t.strip()]


def read_html(html: str) -> Document:
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise ParseError("unreadable", f"HTML could not be parsed: {exc}") from None
    if _TOO_DEEP(root):
        raise ParseError("unreadable", f"HTML nests tags deeper than {MAX_DEPTH} levels")
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    meta = _meta(root)
    heading = root.find(".//h1")
    title_el = root.find(".//title")
    title_hint = (
        meta.get("ArticleTitle")
        or (cell_text(heading) if heading is not None else None)
        or (cell_text(title_el) if title_el is not None else None)
    )
    doc = Document(kind="html", title_hint=title_hint, meta=meta)
    if "PubDate" in meta:
        m = re.match(r"((?:19|20)\d{2})-(\d{1,2})-(\d{1,2})", meta["PubDate"])
        if m and (iso := iso_date(*m.groups())):
            doc.dates.append(DateEvidence("meta:PubDate", iso, meta["PubDate"]))
    m = _VISIBLE_DATE.search(" ".join(root.itertext()))
    if m and (iso := iso_date(*m.groups())):
        doc.dates.append(DateEvidence("visible", iso, m.group(0)))
    tables = _leaf_tables(root)
    doc.blocks = [*_paragraphs(html, root), *tables]
    return doc
