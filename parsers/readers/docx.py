"""Read a DOCX file into a :class:`Document`, walking the body XML ourselves.

python-docx's ``row.cells`` repeats a merged cell's text at every grid position it covers, which
would make a spanned header look like several columns. Reading ``w:tbl`` directly lets a row hold
only the cells that start in it: a ``w:gridSpan`` cell is one ``w:tc`` and vertical-merge
continuations are skipped, matching what an HTML ``<tr>`` holds.

A DOCX is a zip from an untrusted website, so its declared sizes are checked before anything is
decompressed, and its XML is parsed without entity resolution or network access.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterator
from functools import cache

from lxml import etree

from nianbao.parsers.document import Block, DateEvidence, Document, Paragraph, Table
from nianbao.parsers.errors import ParseError
from nianbao.parsers.values import collapse
from nianbao.vocabulary.dates import calendar_day

MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
MAX_RATIO = 200
RATIO_CHECK_ABOVE = 1024 * 1024

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_REL_OFFICE_DOCUMENT = re.compile(r"/officeDocument$")
_TITLE_STYLES = {"title", "heading 1", "heading1"}  # style names, lower-cased
_WORD_TITLE_IDS = frozenset({"Title", "Heading1"})  # Word's own ids of those styles
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_NS_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_NS_DCTERMS = "http://purl.org/dc/terms/"
_NO_NAMESPACE = "urn:nianbao:no-namespace"

# Containers whose children are block content (paragraphs, tables) in reading order.
_BLOCK_CONTAINERS = {"sdt", "sdtContent", "customXml", "smartTag"}


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def check_zip(data: bytes) -> zipfile.ZipFile:
    """Open ``data`` as a zip after rejecting archives whose declared sizes look like a bomb."""
    if data.startswith(_OLE_MAGIC):
        raise ParseError(
            "unreadable",
            "not a DOCX (zip) file: looks like a legacy .doc/.wps or an encrypted document",
        )
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ParseError("unreadable", f"not a DOCX (zip) file: {exc}") from exc
    total = 0
    for info in infos:
        if info.file_size > MAX_MEMBER_BYTES:
            raise ParseError(
                "unreadable",
                f"DOCX member {info.filename} declares {info.file_size} bytes "
                f"(limit {MAX_MEMBER_BYTES}): refusing a possible zip bomb",
            )
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_CHECK_ABOVE and ratio > MAX_RATIO:
            raise ParseError(
                "unreadable",
                f"DOCX member {info.filename} compresses {ratio:.0f}:1 "
                f"(limit {MAX_RATIO}:1): refusing a possible zip bomb",
            )
    if total > MAX_TOTAL_BYTES:
        raise ParseError(
            "unreadable",
            f"DOCX declares {total} bytes uncompressed (limit {MAX_TOTAL_BYTES}): "
            "refusing a possible zip bomb",
        )
    return zf


def _read_xml(zf: zipfile.ZipFile, name: str) -> etree._Element | None:
    try:
        raw = zf.read(name)
    except KeyError:
        return None
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise ParseError("unreadable", f"DOCX member {name} is corrupt: {exc}") from exc
    try:
        return etree.fromstring(raw, _xml_parser())
    except etree.XMLSyntaxError as exc:
        raise ParseError("unreadable", f"DOCX member {name} is not well-formed XML: {exc}") from exc


def _main_part_name(zf: zipfile.ZipFile) -> str:
    """The main document part named by ``_rels/.rels`` (WPS and others may not use the default)."""
    names = set(zf.namelist())
    rels = _read_xml(zf, "_rels/.rels") if "_rels/.rels" in names else None
    if rels is not None:
        for rel in rels.iter(f"{{{_NS_PKG_REL}}}Relationship"):
            if _REL_OFFICE_DOCUMENT.search(rel.get("Type", "")):
                target = posixpath.normpath(rel.get("Target", "").lstrip("/"))
                if target in names:
                    return target
    if "word/document.xml" in names:
        return "word/document.xml"
    raise ParseError("unreadable", "not a DOCX file: the zip has no word/document.xml")


@cache
def _queries(w: str) -> tuple[etree.XPath, etree.XPath, etree.XPath]:
    """XPaths of one WordprocessingML namespace ``w`` (compiled once per namespace): a
    paragraph's text-bearing descendants, a cell's merge continuation, a paragraph's style.

    A paragraph handed to :meth:`_Body.paragraph_text` is never inside ``mc:Fallback`` (the
    walk goes through the body, tables and content controls only), so a Fallback among the
    ancestors of a node is always one inside the paragraph."""
    ns = {"w": w, "mc": _NS_MC}
    parts = etree.XPath(
        "descendant::*[self::w:t or self::w:tab or self::w:br or self::w:cr or self::w:p]"
        "[not(ancestor::mc:Fallback)]", namespaces=ns)
    continuation = etree.XPath(
        "boolean(w:tcPr[1]/w:vMerge[1][not(@w:val = 'restart')]"
        " | w:tcPr[1]/w:hMerge[1][not(@w:val = 'restart')])", namespaces=ns)
    style = etree.XPath("(w:pPr/w:pStyle)[1]", namespaces=ns)
    return parts, continuation, style


class _Body:
    """Walks one ``w:document`` body; ``w`` is its WordprocessingML namespace.

    ``title_style_ids`` is asked only when a paragraph's style is not one of Word's own
    Title / Heading1 ids (reading the styles part is most of a small document's parse)."""

    def __init__(self, root: etree._Element, title_style_ids: Callable[[], set[str]]):
        self.w = etree.QName(root).namespace or ""
        self.root = root
        self.title_style_ids = title_style_ids
        self.title: str | None = None
        self._prefix = f"{{{self.w}}}"
        self._t, self._tab = f"{self._prefix}t", f"{self._prefix}tab"
        # XPath has no prefix for "no namespace": a body without one has no w:p to read
        # (``local`` finds none), so its queries are never run.
        self._parts, self._continuation, self._style = _queries(self.w or _NO_NAMESPACE)

    def q(self, local: str) -> str:
        return f"{self._prefix}{local}"

    def local(self, el: etree._Element) -> str:
        tag = el.tag
        if isinstance(tag, str) and tag.startswith(self._prefix):
            return tag[len(self._prefix):]
        return ""

    def blocks(self) -> list[Block]:
        body = self.root.find(self.q("body"))
        if body is None:
            raise ParseError("unreadable", "DOCX has no w:body")
        return list(self._walk(body))

    def _walk(self, parent: etree._Element) -> Iterator[Block]:
        for child in parent:
            name = self.local(child)
            if name == "p":
                text = collapse(self.paragraph_text(child))
                if text:
                    if self.title is None and self._is_title(child):
                        self.title = text
                    yield Paragraph(text)
            elif name == "tbl":
                yield Table(self.table_rows(child), positional=True)
            elif name in _BLOCK_CONTAINERS:
                yield from self._walk(child)

    def _is_title(self, p: etree._Element) -> bool:
        found = self._style(p)
        if not found:
            return False
        style = found[0].get(self.q("val"), "")
        return style in _WORD_TITLE_IDS or style in self.title_style_ids()

    def paragraph_text(self, p: etree._Element) -> str:
        """Text of runs in order; ``mc:Fallback`` duplicates ``mc:Choice`` so it is skipped.
        A paragraph inside a text box starts a line of its own."""
        parts: list[str] = []
        for el in self._parts(p):
            tag = el.tag
            if tag == self._t:
                parts.append(el.text or "")
            elif tag == self._tab:
                parts.append("\t")
            else:  # w:br, w:cr, or w:p
                parts.append("\n")
        return "".join(parts)

    def table_rows(self, tbl: etree._Element) -> list[list[str]]:
        rows: list[list[str]] = []
        for tr in self._children(tbl, "tr"):
            row: list[str] = []
            for tc in self._children(tr, "tc"):
                if self._continuation(tc):
                    continue
                row.append(collapse("\n".join(self._cell_texts(tc))))
            rows.append(row)
        return rows

    def _children(self, parent: etree._Element, name: str) -> Iterator[etree._Element]:
        """Direct ``w:<name>`` children, looking through content controls and custom XML."""
        for child in parent:
            local = self.local(child)
            if local == name:
                yield child
            elif local in _BLOCK_CONTAINERS:
                yield from self._children(child, name)

    def _cell_texts(self, el: etree._Element) -> Iterator[str]:
        """Paragraph texts of a cell, nested tables flattened into it in reading order."""
        for child in el:
            name = self.local(child)
            if name == "p":
                yield self.paragraph_text(child)
            elif name in ("tbl", "tr", "tc") or name in _BLOCK_CONTAINERS:
                yield from self._cell_texts(child)


class _TitleStyles:
    """Style ids of Title / Heading 1 (Chinese Word names heading 1's id "1"), read from the
    styles part on first use: most documents style their title with Word's own ids, or not at
    all, and the styles part is often larger than the body. A styles part that cannot be read
    leaves Word's own ids, and a note says so (the body is read all the same)."""

    def __init__(self, zf: zipfile.ZipFile, w: str):
        self.zf, self.w = zf, w
        self.notes: list[str] = []
        self._ids: set[str] | None = None

    def ids(self) -> set[str]:
        if self._ids is None:
            self._ids = self._read()
        return self._ids

    def _read(self) -> set[str]:
        ids = set(_WORD_TITLE_IDS)
        try:
            styles = _read_xml(self.zf, "word/styles.xml")
        except ParseError as exc:
            self.notes.append(f"docx: {exc.message}; the title is found by Word's own "
                              "style ids only")
            return ids
        if styles is None:
            return ids
        w = self.w
        for style in styles.iter(f"{{{w}}}style"):
            name = style.find(f"{{{w}}}name")
            if name is not None and name.get(f"{{{w}}}val", "").lower() in _TITLE_STYLES:
                ids.add(style.get(f"{{{w}}}styleId", ""))
        return ids


def _core_dates(zf: zipfile.ZipFile) -> list[DateEvidence]:
    core = _read_xml(zf, "docProps/core.xml")
    if core is None:
        return []
    dates = []
    for field in ("modified", "created"):
        el = core.find(f"{{{_NS_DCTERMS}}}{field}")
        raw = (el.text or "").strip() if el is not None else ""
        if calendar_day(raw[:10]) is not None and not raw.startswith("1601"):
            dates.append(DateEvidence(f"docx:{field}", raw[:10], raw))
    return dates


def read_docx(data: bytes) -> Document:
    """Paragraphs and tables of a DOCX body in reading order; raises ParseError if unreadable."""
    zf = check_zip(data)
    with zf:
        root = _read_xml(zf, _main_part_name(zf))
        if root is None:
            raise ParseError("unreadable", "DOCX main document part is missing")
        w = etree.QName(root).namespace or ""
        styles = _TitleStyles(zf, w)
        body = _Body(root, styles.ids)
        blocks = body.blocks()
        dates = _core_dates(zf)
    return Document(blocks=blocks, kind="docx", title_hint=body.title, dates=dates,
                    notes=styles.notes)
