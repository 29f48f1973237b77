"""Report pages as CMS portals serve them.

Tables are read from the DOM here, row by row, because trafilatura flattens spans: a ``<tr>``
holds exactly the cells that start in it, which is what the table reader expects. Only leaf
tables count (old portals lay pages out with tables that contain the report's tables). The main
text comes from trafilatura, which drops navigation and footers; the page's 47号 meta tags and
its visible 发布日期 become metadata and date evidence. Word's HTML export wraps every run of text
in a span; those run tags are dropped, once the tables and dates are read, before trafilatura.
"""

from __future__ import annotations

import re
from functools import cache

import lxml.html
from lxml import etree

from nianbao.parsers.document import DateEvidence, Document, Paragraph, Table
from nianbao.parsers.errors import ParseError
from nianbao.parsers.metadata import iso_date

# The 47号 guide's ``yyyy-mm-dd hh:mm``, and the other separators CMSs write in its place (as
# the visible date allows them).
_PUB_DATE = re.compile(r"\s*((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})")
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

_TOO_DEEP = etree.XPath("/" + "/".join(["*"] * MAX_DEPTH))
# Compiled once, returning plain strings: ``itertext()`` builds a Python proxy for every span of
# a Word cell, and "smart" XPath strings each keep a reference to their parent element.
_TEXT_NODES = etree.XPath("descendant::text()", smart_strings=False)
# libxml2's HTML parser keeps a script's or a style's content as text, never as elements: the
# parent test says what an ancestor test would, without a walk up from every text node.
_VISIBLE_TEXT = etree.XPath("//text()[not(parent::script) and not(parent::style)]",
                            smart_strings=False)
_HAS_CODE = etree.XPath("boolean(//script|//style)")


@cache
def _main_text():
    """trafilatura's ``extract`` and one configuration for every page (it builds one per call
    otherwise). Imported on first use: the crawler reads ``page_dates`` from this module in its
    own process, where trafilatura (0.3 s to import) is never needed; the parse pool's
    forkserver imports it up front."""
    import trafilatura
    from trafilatura.settings import Extractor

    return trafilatura.extract, Extractor(output_format="txt", fast=True, recall=True,
                                          comments=False, tables=False)


_KEEP = "nianbao-keep"  # marks the spans trafilatura must still see while the rest go


def _html_parser(encoding: str | None = None) -> etree.HTMLParser:
    """lxml.html's parser minus its per-element class lookup in Python.

    lxml.html picks each element's class (form, input, label…) by calling Python for every
    element proxy, thousands of times on a Word page. Trafilatura needs only HtmlElement's
    methods (text_content, drop_tree), which a lookup done in C gives to every element.
    """
    parser = etree.HTMLParser(encoding=encoding)
    parser.set_element_class_lookup(
        etree.ElementDefaultClassLookup(
            element=lxml.html.HtmlElement,
            comment=lxml.html.HtmlComment,
            pi=lxml.html.HtmlProcessingInstruction,
            entity=lxml.html.HtmlEntity,
        )
    )
    return parser


_PARSER = _html_parser()
_UTF8_PARSER = _html_parser("utf-8")  # bytes known to be UTF-8: a third faster than a str


def _parse(html: str | bytes) -> lxml.html.HtmlElement:
    parser = _UTF8_PARSER if isinstance(html, bytes) else _PARSER
    return lxml.html.document_fromstring(html, parser=parser)


def cell_text(el: etree._Element) -> str:
    # Whitespace runs (str.isspace: no-break and ideographic spaces too) become one space;
    # ``split`` does it twice as fast as a regex here.
    text = " ".join(" ".join(_TEXT_NODES(el)).split())
    return _CJK_GAP.sub("", text) if " " in text else text


# Header words only the format's tables 二/三/四 print; a table holding one is data, never text.
_REPORT_TABLE = re.compile("申请人情况|信息内容|本年新收|结果维持|第二十条")


def _leaf_tables(root: etree._Element) -> list[Table]:
    """Tables without nested tables, row by row. The report's own data tables are then taken
    out of the tree: trafilatura (``include_tables=False``) would copy and prune them only to
    drop them, which is most of its time on Word-exported pages."""
    tables = []
    data_tables = []
    for table in root.iter("table"):
        if table.find(".//table") is not None:
            continue
        rows = []
        for tr in table.iter("tr"):
            rows.append([cell_text(td) for td in tr if td.tag in ("td", "th")])
        if any(any(c for c in r) for r in rows):
            tables.append(Table(rows=rows, positional=True))
            if any(_REPORT_TABLE.search(c) for r in rows[:4] for c in r):
                data_tables.append(table)
    for table in data_tables:
        table.drop_tree()
    return tables


def _meta(root: etree._Element) -> dict[str, str]:
    found = {}
    wanted = {n.lower(): n for n in META_NAMES}
    for m in root.iter("meta"):
        name = (m.get("name") or "").strip().lower()
        if name in wanted and m.get("content"):
            found[wanted[name]] = m.get("content").strip()
    return found


def _is_plain_run(span: etree._Element) -> bool:
    """A span as Word wraps every run of text in: only a style (fonts, sizes) and a language.

    A style that says "hidden", "display" or "border" is not plain: trafilatura's pruning
    XPaths read those words in ``@style`` (display:none, hidden boxes, bordered asides).
    """
    for name, value in span.items():
        if name == "style":
            style = value.lower()
            if "hidden" in style or "display" in style or "border" in style:
                return False
        elif name != "lang":
            return False
    return True


def _unwrap_word_runs(root: etree._Element) -> None:
    """Drop Word's ``<o:p>`` and plain run ``<span>`` tags, keeping their text, before trafilatura.

    Word's HTML export multiplies the elements (a span per run, an ``<o:p>`` per paragraph) and
    trafilatura's pruning XPaths visit every one of them; it strips spans itself, only later.
    Spans with a class, an id or a telling style keep their tag for trafilatura's pruning.
    """
    kept = [span for span in root.iter("span") if not _is_plain_run(span)]
    for span in kept:
        span.tag = _KEEP
    etree.strip_tags(root, "o:p", "span")
    for span in kept:
        span.tag = "span"


def _dom_text(html: str) -> str:
    body = _parse(html)
    blocks = body.xpath("//p|//h1|//h2|//h3|//h4|//li|//pre")
    return "\n".join(cell_text(b) for b in blocks if not b.xpath("ancestor::table"))


def _paragraphs(html: str, root: etree._Element) -> list[Paragraph]:
    """Main text by trafilatura, else the DOM's blocks.

    Drops Word's run tags from ``root`` first, which changes how its text splits into nodes
    (and so the cell texts): call it after the tables and dates are read.
    """
    _unwrap_word_runs(root)
    extract, options = _main_text()
    text = extract(root, options=options) or _dom_text(html)
    return [Paragraph(t.strip()) for t in text.split("\n") if t.strip()]


def page_dates(root: etree._Element, meta: dict[str, str] | None = None, *,
               code_removed: bool = False) -> list[DateEvidence]:
    """The dates a page states about itself: the 47号 ``PubDate`` meta tag and the visible
    发布日期. The crawler also uses them to date the attachments a page publishes.
    ``code_removed``: the page's scripts and styles are gone already (no need to look)."""
    meta = _meta(root) if meta is None else meta
    dates = []
    if "PubDate" in meta:
        m = _PUB_DATE.match(meta["PubDate"])
        if m and (iso := iso_date(*m.groups())):
            dates.append(DateEvidence("meta:PubDate", iso, meta["PubDate"]))
    # Not needed once the page's scripts and styles are gone (as in ``read_html``).
    has_code = not code_removed and _HAS_CODE(root)
    text = " ".join(_VISIBLE_TEXT(root) if has_code else _TEXT_NODES(root))
    m = _VISIBLE_DATE.search(text)
    if m and (iso := iso_date(*m.groups())):
        dates.append(DateEvidence("visible", iso, m.group(0)))
    return dates


def read_html(html: str, utf8: bytes | None = None) -> Document:
    """The page ``html``; ``utf8``, when given, is its exact UTF-8 encoding (the page's own bytes),
    which libxml2 reads faster than the decoded text."""
    try:
        root = _parse(utf8 if utf8 is not None else html)
    except (etree.ParserError, ValueError) as exc:
        raise ParseError("unreadable", f"HTML could not be parsed: {exc}") from None
    if _TOO_DEEP(root):
        raise ParseError("unreadable", f"HTML nests tags deeper than {MAX_DEPTH} levels")
    for bad in list(root.iter("script", "style", "noscript")):
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
    doc.dates.extend(page_dates(root, meta, code_removed=True))
    tables = _leaf_tables(root)  # before the paragraphs: it takes the data tables out
    doc.blocks = [*_paragraphs(html, root), *tables]
    return doc
