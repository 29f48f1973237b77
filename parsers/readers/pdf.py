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
from collections.abc import Iterator
from dataclasses import dataclass, field

import pdfplumber
import pypdfium2 as pdfium
from pdfplumber.page import Page
from pdfplumber.table import Table as PlumberTable
from PIL import Image

from parsers.document import Block, Document, Table
from parsers.errors import ParseError
from parsers.readers.docx import collapse
from parsers.readers.ocr import (
    Box,
    drop_page_numbers,
    group_lines,
    layout,
    ocr_boxes,
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
    """Something placed on a page: a line of segments, or finished blocks (table, OCR)."""

    top: float
    line: list[Box] | None = None
    blocks: list[Block] = field(default_factory=list)


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
        self.blocks: list[Block] = []
        self.scores: list[float] = []
        self.ocr_pages: list[int] = []
        self.pdfium_pages: list[int] = []
        self.cid_ocr_pages: list[int] = []
        self.picture_pages: list[int] = []
        self.text_pages = 0

    def _render(self, index: int) -> Image.Image:
        return self.pdfium_doc[index].render(scale=OCR_DPI / 72).to_pil()

    def _ocr(self, image: Image.Image, whole_page: bool) -> list[Block]:
        boxes, scores = ocr_boxes(image)
        self.scores.extend(scores)
        lines = group_lines(boxes)
        if whole_page:
            lines = drop_page_numbers(lines, image.height)
        return layout(lines, rule_detector(image))

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
                self.blocks.extend(self._text_page(index, page, self._ocr_glyphs(index, page), []))
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
            self.blocks.extend(self._ocr(self._render(index), whole_page=True))
            self.ocr_pages.append(index + 1)
            return
        self.text_pages += 1
        self.blocks.extend(self._text_page(index, page, glyphs, images))

    def _text_page(
        self,
        index: int,
        page: Page,
        glyphs: list[Box],
        images: list[tuple[float, float, float, float]],
    ) -> Iterator[Block]:
        tables = [t for t in page.find_tables() if len(t.cells) > 1]  # a lone cell is a frame
        items = [
            _Item(t.bbox[1], blocks=[Table(_table_rows(t, glyphs), positional=True)])
            for t in tables
        ]
        free = [g for g in glyphs if not any(_inside(g, t.bbox) for t in tables)]
        pictures = [b for b in images if not any(_inside(g, b) for g in free)]
        if pictures:
            image = self._render(index)
            scale = image.width / float(page.width)
            for x0, top, x1, bottom in pictures:
                box = (int(x0 * scale), int(top * scale), int(x1 * scale), int(bottom * scale))
                crop = image.crop(box)
                items.append(_Item(top, blocks=self._ocr(crop, whole_page=False)))
            self.picture_pages.append(index + 1)
        lines = drop_page_numbers(group_lines(free), float(page.height))
        items.extend(_Item(line[0].top, line=_segments(line)) for line in lines)
        items.sort(key=lambda item: item.top)
        run: list[list[Box]] = []
        for item in items:
            if item.line is not None:
                run.append(item.line)
                continue
            yield from layout(run)
            run = []
            yield from item.blocks
        yield from layout(run)

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
        if self.picture_pages:
            notes.append(f"pdf: pictures OCR'd on pages {_pages(self.picture_pages)}")
        if self.ocr_pages or self.cid_ocr_pages or self.picture_pages:
            notes.append(score_note(self.scores))
        return notes


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
    kind = "pdf" if reader.text_pages else "pdf-ocr"
    return Document(blocks=reader.blocks, kind=kind, notes=reader.notes())
