"""Read a PDF into a :class:`Document`: ruled tables by geometry, text around them by line.

pdfplumber finds ruled tables from the drawn lines (``find_tables``), which works whatever the
fonts; each cell's text is then assembled from the glyphs whose centres fall inside it, and the
glyphs outside every table become lines, paragraphs and (for unruled tables) text-only tables,
all in vertical order.

Glyph text normally comes from pdfminer (via pdfplumber). Chinese fonts embedded without a
ToUnicode map come out of pdfminer as ``(cid:NNN)``; on such pages the glyphs are taken from
pdfium instead, which can often still map them. A page with no usable text at all (a scan, or
fonts neither library can map) is rendered and OCR'd, and so is a large picture on a text page
(tables are often pasted in as screenshots).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pdfplumber
import pypdfium2 as pdfium
from pdfplumber.page import Page
from pdfplumber.table import Table as PlumberTable
from PIL import Image

from parsers.document import Block, Document, Paragraph, Table
from parsers.errors import ParseError
from parsers.readers.docx import collapse
from parsers.readers.ocr import (
    Box,
    RuleTest,
    continues,
    drop_page_numbers,
    group_lines,
    layout,
    margins,
    ocr_boxes,
    page_lines,
    rule_detector,
    score_note,
)

OCR_DPI = 200
CID_SHARE = 0.1  # share of a page's glyphs that are (cid:N) before pdfium is asked instead
BAD_SHARE = 0.05  # share of control / private-use characters that makes pdfium text garbage
SCAN_MAX_GLYPHS = 20  # a page with fewer glyphs and a page-sized picture is a scan
SCAN_IMAGE_SHARE = 0.5
PICTURE_SHARE = 0.08  # a picture this large, with no glyphs on it, is OCR'd in place
SEGMENT_GAP = 1.5  # a horizontal gap wider than this many glyph heights splits a line into cells
SPACE_GAP = 0.2  # a gap wider than this many glyph heights is a space between words


@dataclass
class _Item:
    """Something placed on a page: a line of segments, or finished blocks (a ruled table, an
    OCR'd picture)."""

    top: float
    line: list[Box] | None = None
    blocks: list[Block] = field(default_factory=list)
    columns: tuple[float, float] | None = None  # a ruled table's left and right edges


@dataclass
class _Page:
    """A page's items in vertical order, laid out once the document's margins are known.
    ``crosses`` is set for a page OCR'd whole; its coordinates are then image pixels."""

    items: list[_Item]
    crosses: RuleTest | None = None


def _join(glyphs: list[Box]) -> str:
    """Text of one line of glyphs; a repeated glyph drawn on top of itself (fake bold) once."""
    out = ""
    prev: Box | None = None
    for g in glyphs:
        if prev is not None:
            h = max(g.height, prev.height, 1.0)
            if g.text == prev.text and abs(g.x0 - prev.x0) < 0.3 * h:
                continue
            if g.x0 - prev.x1 > SPACE_GAP * h:
                out += " "
        out += g.text
        prev = g
    return out


def _cell_text(glyphs: list[Box]) -> str:
    return collapse("\n".join(_join(line) for line in group_lines(glyphs)))


def _segments(line: list[Box]) -> list[Box]:
    """Split a line of glyphs into segments at wide gaps (cells of an unruled table)."""
    groups: list[list[Box]] = [[line[0]]]
    for g in line[1:]:
        prev = groups[-1][-1]
        if g.x0 - prev.x1 > SEGMENT_GAP * max(g.height, prev.height, 1.0):
            groups.append([g])
        else:
            groups[-1].append(g)
    return [
        Box(
            _join(group),
            group[0].x0,
            min(g.top for g in group),
            max(g.x1 for g in group),
            max(g.bottom for g in group),
        )
        for group in groups
    ]


def _inside(g: Box, bbox: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = bbox
    return x0 <= g.cx <= x1 and top <= g.cy <= bottom


def _table_rows(table: PlumberTable, glyphs: list[Box]) -> list[list[str]]:
    """Rows of cells that start in them: pdfplumber marks covered grid positions ``None``."""
    rows = []
    for row in table.rows:
        row_glyphs = [g for g in glyphs if _inside(g, row.bbox)]
        rows.append(
            [_cell_text([g for g in row_glyphs if _inside(g, cell)]) for cell in row.cells if cell]
        )
    return rows


def _plumber_glyphs(page: Page) -> tuple[list[Box], int]:
    """Non-blank glyphs from pdfminer, and how many were unmappable ``(cid:N)``."""
    glyphs = []
    cid = 0
    for c in page.chars:
        text = c["text"]
        if text.startswith("(cid:"):
            cid += 1
        elif text.strip():
            glyphs.append(Box(text, c["x0"], c["top"], c["x1"], c["bottom"]))
    return glyphs, cid


def _pdfium_glyphs(page: pdfium.PdfPage, height: float) -> list[Box] | None:
    """Non-blank glyphs from pdfium in pdfplumber's coordinates, or None if they are garbage
    (glyph ids passed through as control or private-use characters)."""
    textpage = page.get_textpage()
    text = textpage.get_text_range()
    glyphs = []
    bad = 0
    for i, ch in enumerate(text[: textpage.count_chars()]):
        if ch in "\r\n\t " or ch.isspace():
            continue
        code = ord(ch)
        if code < 0x20 or 0xE000 <= code <= 0xF8FF or ch == "\ufffd":
            bad += 1
            continue
        left, bottom, right, top = textpage.get_charbox(i, loose=True)
        glyphs.append(Box(ch, left, height - top, right, height - bottom))
    if not glyphs or bad > BAD_SHARE * (len(glyphs) + bad):
        return None
    return glyphs


class _Reader:
    def __init__(self, pdfium_doc: pdfium.PdfDocument):
        self.pdfium_doc = pdfium_doc
        self.pages: list[_Page] = []
        self.scores: list[float] = []
        self.ocr_pages: list[int] = []
        self.pdfium_pages: list[int] = []
        self.cid_ocr_pages: list[int] = []
        self.picture_pages: list[int] = []
        self.joined_tables = 0

    def _render(self, index: int) -> Image.Image:
        return self.pdfium_doc[index].render(scale=OCR_DPI / 72).to_pil()

    def _ocr_glyphs(self, index: int, page: Page) -> list[Box]:
        """OCR boxes of the rendered page, in the page's coordinates."""
        image = self._render(index)
        boxes, scores = ocr_boxes(image)
        self.scores.extend(scores)
        s = image.width / float(page.width)
        return [Box(b.text, b.x0 / s, b.top / s, b.x1 / s, b.bottom / s) for b in boxes]

    def page(self, index: int, page: Page) -> None:
        glyphs, cid = _plumber_glyphs(page)
        if cid and cid >= CID_SHARE * (cid + len(glyphs)):
            mapped = _pdfium_glyphs(self.pdfium_doc[index], float(page.height))
            if mapped is None:
                # Neither library can map these fonts: OCR the page, but keep the ruled tables'
                # geometry from the PDF so their cells stay positional.
                self.cid_ocr_pages.append(index + 1)
                self.pages.append(self._text_page(index, page, self._ocr_glyphs(index, page), []))
                return
            glyphs = mapped
            self.pdfium_pages.append(index + 1)
        area = float(page.width * page.height) or 1.0
        images = [
            (img["x0"], img["top"], img["x1"], img["bottom"])
            for img in page.images
            if (img["x1"] - img["x0"]) * (img["bottom"] - img["top"]) >= PICTURE_SHARE * area
        ]
        scan = not glyphs or (
            len(glyphs) < SCAN_MAX_GLYPHS
            and any((b[2] - b[0]) * (b[3] - b[1]) >= SCAN_IMAGE_SHARE * area for b in images)
        )
        if scan:
            image = self._render(index)
            lines, scores = page_lines(image)
            self.scores.extend(scores)
            self.ocr_pages.append(index + 1)
            items = [_Item(line[0].top, line=line) for line in lines]
            self.pages.append(_Page(items, rule_detector(image)))
            return
        self.pages.append(self._text_page(index, page, glyphs, images))

    def _text_page(
        self,
        index: int,
        page: Page,
        glyphs: list[Box],
        images: list[tuple[float, float, float, float]],
    ) -> _Page:
        tables = [t for t in page.find_tables() if len(t.cells) > 1]  # a lone cell is a frame
        items = [
            _Item(
                t.bbox[1],
                blocks=[Table(_table_rows(t, glyphs), positional=True)],
                columns=(t.bbox[0], t.bbox[2]),
            )
            for t in tables
        ]
        free = [g for g in glyphs if not any(_inside(g, t.bbox) for t in tables)]
        pictures = [b for b in images if not any(_inside(g, b) for g in free)]
        if pictures:
            image = self._render(index)
            scale = image.width / float(page.width)
            for x0, top, x1, bottom in pictures:
                crop = image.crop(
                    (int(x0 * scale), int(top * scale), int(x1 * scale), int(bottom * scale))
                )
                boxes, scores = ocr_boxes(crop)
                self.scores.extend(scores)
                items.append(_Item(top, blocks=layout(group_lines(boxes), rule_detector(crop))))
            self.picture_pages.append(index + 1)
        lines = drop_page_numbers(group_lines(free), page.height)
        items.extend(_Item(line[0].top, line=_segments(line)) for line in lines)
        items.sort(key=lambda item: item.top)
        return _Page(items)

    def blocks(self) -> list[Block]:
        """Lay out every page with the document's margins, joining what page breaks split."""
        text_edges = margins(
            [i.line for p in self.pages if p.crosses is None for i in p.items if i.line]
        )
        ocr_edges = margins(
            [i.line for p in self.pages if p.crosses is not None for i in p.items if i.line]
        )
        blocks: list[Block] = []
        prev: _Page | None = None
        for page in self.pages:
            edges = text_edges if page.crosses is None else ocr_edges
            page_blocks = _layout_page(page, edges)
            if prev is not None and page_blocks and blocks:
                same_space = (prev.crosses is None) == (page.crosses is None)
                if same_space and self._stitch(blocks[-1], page_blocks[0], prev, page, edges):
                    page_blocks = page_blocks[1:]
            blocks.extend(page_blocks)
            prev = page
        return blocks

    def _stitch(
        self, last: Block, first: Block, prev: _Page, page: _Page, edges: tuple[float, float]
    ) -> bool:
        """Join a paragraph or a ruled table split by a page break into ``last``.

        A continued table's first row loses its leading blank cells: they are the rest of row
        labels merged vertically across the break, whose text is on the previous page.
        """
        if not prev.items or not page.items:
            return False
        end, start = prev.items[-1], page.items[0]
        if (
            isinstance(last, Paragraph)
            and isinstance(first, Paragraph)
            and end.line
            and start.line
            and len(end.line) == len(start.line) == 1
            and continues(end.line, start.line, *edges)
        ):
            last.text = collapse(last.text + " " + first.text)
            return True
        if (
            isinstance(last, Table)
            and isinstance(first, Table)
            and first.rows
            and end.columns
            and start.columns
            and all(abs(a - b) <= 2 for a, b in zip(end.columns, start.columns, strict=True))
        ):
            row = first.rows[0]
            while row and not row[0]:
                row.pop(0)
            last.rows.extend(first.rows)
            self.joined_tables += 1
            return True
        return False

    def notes(self) -> list[str]:
        notes = []
        if self.pdfium_pages:
            notes.append(
                "pdf: (cid:N) glyphs from fonts without ToUnicode; text taken from pdfium on "
                f"pages {_pages(self.pdfium_pages)}"
            )
        if self.cid_ocr_pages:
            notes.append(
                "pdf: (cid:N) glyphs that neither pdfminer nor pdfium can map on pages "
                f"{_pages(self.cid_ocr_pages)}; text OCR'd, ruled tables kept from the PDF"
            )
        if self.ocr_pages:
            notes.append(f"pdf: no text layer on pages {_pages(self.ocr_pages)}; OCR'd")
        if self.joined_tables:
            notes.append(f"pdf: {self.joined_tables} table(s) continued over a page break joined")
        if self.picture_pages:
            notes.append(f"pdf: pictures OCR'd on pages {_pages(self.picture_pages)}")
        if self.ocr_pages or self.cid_ocr_pages or self.picture_pages:
            notes.append(score_note(self.scores))
        return notes


def _layout_page(page: _Page, edges: tuple[float, float]) -> list[Block]:
    blocks: list[Block] = []
    run: list[list[Box]] = []
    for item in page.items:
        if item.line is not None:
            run.append(item.line)
            continue
        blocks.extend(layout(run, page.crosses, edges))
        run = []
        blocks.extend(item.blocks)
    blocks.extend(layout(run, page.crosses, edges))
    return blocks


def _pages(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers))


def read_pdf(data: bytes) -> Document:
    """Blocks of every page in order; kind ``pdf-ocr`` when no page had a usable text layer."""
    try:
        pdfium_doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ParseError("unreadable", f"PDF is corrupt or truncated: {exc}") from exc
    reader = _Reader(pdfium_doc)
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for index, page in enumerate(pdf.pages):
                reader.page(index, page)
    except ParseError:
        raise
    except Exception as exc:  # pdfminer raises many types (PSEOF, PDFSyntaxError, KeyError...)
        raise ParseError("unreadable", f"PDF is corrupt or truncated: {exc!r}") from exc
    finally:
        pdfium_doc.close()
    blocks = reader.blocks()
    ocr_only = len(reader.ocr_pages) + len(reader.cid_ocr_pages) == len(reader.pages)
    return Document(blocks=blocks, kind="pdf-ocr" if ocr_only else "pdf", notes=reader.notes())
