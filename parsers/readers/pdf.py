"""Read a PDF into a :class:`Document`: ruled tables by geometry, text around them by line.

pdfplumber finds ruled tables from the drawn lines (``find_tables``), which works whatever the
fonts; each cell's text is then assembled from the glyphs whose centres fall inside it, and the
glyphs outside every table become lines, paragraphs and (for unruled tables) text-only tables,
all in vertical order. Paragraphs and tables cut by a page break are joined again.

Glyph text normally comes from pdfminer (via pdfplumber). Chinese fonts embedded without a
ToUnicode map come out of pdfminer as ``(cid:NNN)``; on such pages the glyphs are taken from
pdfium instead, which can often still map them, and when it cannot either the page is OCR'd
while its ruled tables still come from the PDF. A page with no text layer (a scan) is rendered
and OCR'd whole, and so is a large picture on a text page (tables are often pasted in as
screenshots).
"""

from __future__ import annotations

import io

import pdfplumber
import pypdfium2 as pdfium
from pdfminer.layout import LTChar, LTContainer
from pdfplumber.page import Page as PlumberPage
from PIL import Image

from nianbao.parsers.document import Document
from nianbao.parsers.errors import ParseError
from nianbao.parsers.readers.layout import (
    BBox,
    Box,
    Item,
    Page,
    assemble,
    inside,
    layout_items,
    margins,
    page_items,
)
from nianbao.parsers.readers.ocr import ocr_glyphs, ocr_page, score_note

OCR_DPI = 200
CID_SHARE = 0.1  # share of a page's glyphs that are (cid:N) before pdfium is asked instead
BAD_SHARE = 0.05  # share of control / private-use characters that makes pdfium text garbage
SCAN_MAX_GLYPHS = 20  # a page with fewer glyphs and a page-sized picture is a scan
SCAN_IMAGE_SHARE = 0.5
PICTURE_SHARE = 0.08  # a picture this large, with no glyphs on it, is OCR'd in place


def _plumber_glyphs(page: PlumberPage) -> tuple[list[Box], int]:
    """Non-blank glyphs from pdfminer, and how many were unmappable ``(cid:N)``."""
    glyphs = []
    cid = 0
    for text, x0, top, x1, bottom in _chars(page):
        if text.startswith("(cid:"):
            cid += 1
        elif text.strip():
            glyphs.append(Box(text, x0, top, x1, bottom))
    return glyphs, cid


def _chars(page: PlumberPage) -> list[tuple[str, float, float, float, float]]:
    """The page's glyphs as pdfplumber's ``page.chars`` gives them (text, x0, top, x1, bottom),
    read straight from pdfminer's layout of the page.

    ``page.chars`` turns every glyph into a dict of some twenty attributes (colours, font,
    matrix, marked content), a fifth of a text page's parse, for the five read here. So the
    glyphs are taken from the layout with pdfplumber's arithmetic, and the page is given its
    other objects (lines, rects, curves, images: what ``find_tables`` and ``page.images`` read)
    made by pdfplumber itself, in its order; its ``chars`` are then left empty. A page whose
    objects are already made, or a document opened with layout analysis or Unicode
    normalisation (not done here), reads ``page.chars`` as before."""
    if hasattr(page, "_objects") or page.pdf.laparams is not None or page.pdf.unicode_norm:
        return [(c["text"], c["x0"], c["top"], c["x1"], c["bottom"]) for c in page.chars]
    height = page.height
    mb_x0, mb_top = page.mediabox[:2]
    chars: list[tuple[str, float, float, float, float]] = []
    objects: dict[str, list[dict]] = {}

    def walk(layout_objects: list) -> None:  # as pdfplumber's Page.iter_layout_objects
        for obj in layout_objects:
            if isinstance(obj, LTContainer):
                walk(obj._objs)
            elif type(obj) is LTChar:
                x0, x1 = (obj.x0 + mb_x0, obj.x1 + mb_x0) if mb_x0 != 0 else (obj.x0, obj.x1)
                top = (height - obj.y1) + mb_top
                bottom = (height - obj.y0) + mb_top
                chars.append((obj.get_text(), x0, top, x1, bottom))
            else:
                made = page.process_object(obj)
                if made["object_type"] != "anno":
                    objects.setdefault(made["object_type"], []).append(made)

    walk(page.layout._objs)
    page._objects = objects
    return chars


def _pdfium_glyphs(page: pdfium.PdfPage, height: float) -> list[Box] | None:
    """Non-blank glyphs from pdfium in pdfplumber's coordinates, or None if they are garbage
    (glyph ids passed through as control or private-use characters)."""
    textpage = page.get_textpage()
    text = textpage.get_text_range()
    glyphs = []
    bad = 0
    for i, ch in enumerate(text[: textpage.count_chars()]):
        if ch.isspace():
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


def _area(b: BBox) -> float:
    return (b[2] - b[0]) * (b[3] - b[1])


class _PageReader:
    """Reads page by page, remembering which fallbacks each page needed."""

    def __init__(self, pdfium_doc: pdfium.PdfDocument):
        self.pdfium_doc = pdfium_doc
        self.pages: list[Page] = []
        self.scores: list[float] = []
        self.ocr_pages: list[int] = []
        self.pdfium_pages: list[int] = []
        self.cid_ocr_pages: list[int] = []
        self.picture_pages: list[int] = []

    def _render(self, index: int) -> Image.Image:
        return self.pdfium_doc[index].render(scale=OCR_DPI / 72).to_pil()

    def page(self, index: int, page: PlumberPage) -> None:
        glyphs, cid = _plumber_glyphs(page)
        if cid and cid >= CID_SHARE * (cid + len(glyphs)):
            mapped = _pdfium_glyphs(self.pdfium_doc[index], float(page.height))
            if mapped is None:
                # Neither library can map these fonts: OCR the page, but keep the ruled tables'
                # geometry from the PDF.
                image = self._render(index)
                found, scores, _ = ocr_glyphs(image)
                self.scores.extend(scores)
                s = image.width / float(page.width)
                glyphs = [Box(b.text, b.x0 / s, b.top / s, b.x1 / s, b.bottom / s) for b in found]
                self.cid_ocr_pages.append(index + 1)
                self.pages.append(Page(self._items(index, page, glyphs, []), space="pdf"))
                return
            glyphs = mapped
            self.pdfium_pages.append(index + 1)
        area = float(page.width * page.height) or 1.0
        images: list[BBox] = [
            (img["x0"], img["top"], img["x1"], img["bottom"]) for img in page.images
        ]
        images = [b for b in images if _area(b) >= PICTURE_SHARE * area]
        scan = not glyphs or (
            len(glyphs) < SCAN_MAX_GLYPHS
            and any(_area(b) >= SCAN_IMAGE_SHARE * area for b in images)
        )
        if scan:
            image = self._render(index)
            items, scores = ocr_page(image)
            self.scores.extend(scores)
            self.ocr_pages.append(index + 1)
            self.pages.append(Page(items, space=f"{image.width}x{image.height}"))
            return
        self.pages.append(Page(self._items(index, page, glyphs, images), space="pdf"))

    def _items(
        self, index: int, page: PlumberPage, glyphs: list[Box], images: list[BBox]
    ) -> list[Item]:
        """Items of a page with glyphs: pdfplumber's ruled tables (rows of the cells that start
        in them; pdfplumber marks covered grid positions None), lines, OCR'd pictures."""
        tables = [
            (t.bbox, [[c for c in row.cells if c] for row in t.rows])
            for t in page.find_tables()
            if len(t.cells) > 1  # a lone cell is a frame around text
        ]
        items = page_items(glyphs, tables, float(page.height))
        pictures = [b for b in images if not any(inside(g, b) for g in glyphs)]  # not a background
        if pictures:
            image = self._render(index)
            scale = image.width / float(page.width)
            for x0, top, x1, bottom in pictures:
                crop = image.crop(
                    (int(x0 * scale), int(top * scale), int(x1 * scale), int(bottom * scale))
                )
                found, scores = ocr_page(crop)
                self.scores.extend(scores)
                lines = [item.line for item in found if item.line]
                items.append(Item(top, blocks=layout_items(found, margins(lines))))
            items.sort(key=lambda item: item.top)
            self.picture_pages.append(index + 1)
        return items

    def notes(self, joined: int) -> list[str]:
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
        if joined:
            notes.append(f"pdf: {joined} table(s) cut by a page break joined")
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
        # pdfium's error code can be stale from an earlier document, so it is not quoted.
        if b"/Encrypt" in data:
            raise ParseError("unreadable", "PDF is encrypted: it needs a password") from exc
        raise ParseError(
            "unreadable", "PDF is corrupt or truncated: pdfium cannot load it"
        ) from exc
    reader = _PageReader(pdfium_doc)
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for index, page in enumerate(pdf.pages):
                reader.page(index, page)
                page.close()  # its layout and objects: not needed again
    except ParseError:
        raise
    except Exception as exc:  # pdfminer raises many types (PSEOF, PDFSyntaxError, KeyError...)
        raise ParseError("unreadable", f"PDF is corrupt or truncated: {exc!r}") from exc
    finally:
        pdfium_doc.close()
    blocks, joined = assemble(reader.pages)
    ocr_only = len(reader.ocr_pages) + len(reader.cid_ocr_pages) == len(reader.pages)
    return Document(
        blocks=blocks, kind="pdf-ocr" if ocr_only else "pdf", notes=reader.notes(joined)
    )
