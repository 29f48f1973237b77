"""Read scanned pages (images, image-only PDFs) with rapidocr and rebuild lines and tables.

Many 年度报告 are published as 图片版: photos or scans with no text layer. rapidocr ships its
PP-OCR models in the wheel and runs offline, but it returns loose text boxes, not a layout. The
layout is rebuilt from geometry: boxes whose vertical centres overlap form a line; a line that is
one box is prose, and consecutive lines of several boxes are table rows. OCR cannot see which
cells are blank, so those tables are ``positional=False``.

The same line/table rebuilding serves the PDF reader when it has to place glyphs itself, so it
lives here as :class:`Box`, :func:`group_lines` and :func:`layout`.
"""

from __future__ import annotations

import io
import re
import statistics
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from parsers.document import Block, Document, Paragraph, Table
from parsers.errors import ParseError
from parsers.readers.docx import collapse

MAX_FRAMES = 50  # pages of a multi-frame TIFF/GIF; a report is rarely over 20

# A line starting like this begins a new paragraph even if the previous line ran to the margin.
NEW_PARAGRAPH = re.compile(
    r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+[.、．](?!\d)|第[一二三四五六七八九十\d]+[条章]"
    r"|附件|注[:：])"
)
_LEADING_LATIN = re.compile(r"[（(]?[!-~]+")
_PAGE_NUMBER = re.compile(r"^(?:[-—－–]*\d{1,3}[-—－–]*|第\d+页(?:[,，]?共\d+页)?|\d+/\d+)$")
# A top-level section heading: never absorbed into a table as a one-cell row.
_SECTION_HEADING = re.compile(r"^[一二三四五六七八九十]+、\S{4,}")

_DARK = 190  # grey level below which a pixel counts as ink (hairlines render light grey)

RuleTest = Callable[[float, float, float, float], bool]

_engine: Any = None
_engine_lock = threading.Lock()


@dataclass
class Box:
    """A piece of text and its bounding box, y growing downwards (page or image units)."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def height(self) -> float:
        return self.bottom - self.top


def group_lines(boxes: list[Box]) -> list[list[Box]]:
    """Cluster boxes into lines, top to bottom, each sorted left to right.

    A box joins a line when each one's vertical centre lies inside the other's vertical extent;
    a line's extent is that of its first box, so lines do not creep. The last few lines are
    tried, not only the last, because neighbouring columns need not share a baseline.
    """
    lines: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b.cy, b.x0)):
        for line in reversed(lines[-3:]):
            first = line[0]
            if first.top <= box.cy <= first.bottom and box.top <= first.cy <= box.bottom:
                line.append(box)
                break
        else:
            lines.append([box])
    for line in lines:
        line.sort(key=lambda b: b.x0)
    return lines


def drop_page_numbers(lines: list[list[Box]], page_height: float) -> list[list[Box]]:
    """Drop page numbers ("- 3 -", "第 3 页 共 9 页") in the top or bottom tenth of a page;
    left in, they would split a paragraph or a table running over a page break."""
    margin = page_height / 10
    return [
        line
        for line in lines
        if not (
            (line[0].top > page_height - margin or line[0].bottom < margin)
            and _PAGE_NUMBER.match("".join(_line_text(line).split()))
        )
    ]


def _line_text(line: list[Box]) -> str:
    return collapse(" ".join(b.text for b in line))


def _table_rows(lines: list[list[Box]]) -> list[bool]:
    """Which lines are table rows: runs of 2+ lines of 2+ boxes, plus one-box lines between.

    A one-box line sandwiched between table rows is a row whose other cells are blank (or a
    label that wrapped), unless it reads like a section heading.
    """
    multi = [len(line) >= 2 for line in lines]
    row = list(multi)
    for i in range(1, len(lines) - 1):
        if not multi[i] and multi[i - 1] and multi[i + 1]:
            row[i] = not _SECTION_HEADING.match(_line_text(lines[i]))
    # A lone multi-box line between prose is prose with a wide gap (e.g. a signature and date).
    i = 0
    while i < len(row):
        j = i
        while j < len(row) and row[j]:
            j += 1
        if j - i == 1:
            row[i] = False
        i = max(j, i + 1)
    return row


def margins(lines: list[list[Box]]) -> tuple[float, float]:
    """Left and right edges of body text, for :func:`layout`: nearly the leftmost line start
    and rightmost line end (percentiles, so one overlong line does not move the margin).
    Measure them over a whole document: a sparse last page alone says little."""
    if not lines:
        return 0.0, 0.0
    starts = sorted(line[0].x0 for line in lines)
    ends = sorted(line[-1].x1 for line in lines)
    return starts[len(starts) // 20], ends[len(ends) - 1 - len(ends) // 20]


def continues(prev: list[Box], line: list[Box], left: float, right: float) -> bool:
    """Whether prose ``line`` continues the paragraph whose last line is ``prev``.

    It does when ``prev`` ran to the right margin and ``line`` is either flush left and does
    not start like a heading or list item, or a shorter line centred under ``prev`` (a wrapped
    title). Chinese paragraphs indent their first line and headings are short, so both stay
    apart. The right edge is ragged: a line may break a few characters early before a number
    or punctuation that may not start a line, or much earlier before a long Latin word (a URL).
    """
    h = max(b.height for b in line)
    slack = right - prev[-1].x1
    text = _line_text(line)
    latin = _LEADING_LATIN.match(text)
    latin_width = 0.5 * h * len(latin.group()) if latin else 0.0
    if slack > 3.5 * max(b.height for b in prev) and latin_width < slack - h:
        return False
    flush = line[0].x0 <= left + 0.8 * h and not NEW_PARAGRAPH.match(text)
    width, prev_width = line[-1].x1 - line[0].x0, prev[-1].x1 - prev[0].x0
    centred = (
        line[0].x0 > left + 0.8 * h
        and width < prev_width - 2 * h
        and abs((line[0].x0 + line[-1].x1) - (prev[0].x0 + prev[-1].x1)) < h
    )
    return flush or centred


def _paragraphs(lines: list[list[Box]], left: float, right: float) -> list[Paragraph]:
    """Join wrapped prose lines into paragraphs (see :func:`continues`)."""
    paragraphs: list[Paragraph] = []
    prev: list[Box] | None = None
    for line in lines:
        text = _line_text(line)
        if not text:
            continue
        close = prev is not None and line[0].top - prev[-1].bottom <= 1.2 * line[0].height
        if prev is not None and close and continues(prev, line, left, right):
            paragraphs[-1].text = collapse(paragraphs[-1].text + " " + text)
        else:
            paragraphs.append(Paragraph(text))
        prev = line
    return paragraphs


def _overlap(a: Box, b: Box) -> float:
    return min(a.x1, b.x1) - max(a.x0, b.x0)


def _attach_trailing(lines: list[list[Box]], is_row: list[bool], crosses: RuleTest) -> None:
    """A one-box line right under a table row, in the same column with no rule between, is
    the wrapped end of that row's label (the table's last row often wraps)."""
    for i in range(1, len(lines)):
        if is_row[i] or not is_row[i - 1] or len(lines[i]) != 1:
            continue
        b = lines[i][0]
        if _SECTION_HEADING.match(collapse(b.text)):
            continue
        for a in lines[i - 1]:
            if _overlap(a, b) > 0.5 * b.height and not crosses(
                max(a.x0, b.x0), min(a.x1, b.x1), a.cy, b.cy
            ):
                is_row[i] = True
                break


def _line_cy(line: list[Box]) -> float:
    return statistics.fmean(b.cy for b in line)


def _merge_wrapped(run: list[list[Box]], crosses: RuleTest) -> list[list[str]] | None:
    """Rebuild the rows of a ruled table whose cell text wrapped over several OCR lines.

    A box that sits under a box of the row above, with no ruled line between them, continues
    that cell ("商业" + "企业"); what is left of a line joins the row above unless a ruled line
    runs between them (numbers centred beside a two-line label). Returns None if no ruled line
    separates any two lines: then the table is unruled and every line is its own row.
    """
    if not any(
        crosses(b.x0, b.x1, _line_cy(run[k - 1]), b.cy) for k in range(1, len(run)) for b in run[k]
    ):
        return None
    rows: list[list[Box]] = []
    last_cy = 0.0
    for line in run:
        rest: list[Box] = []
        for b in line:
            above = rows[-1] if rows else []
            cell = next(
                (
                    a
                    for a in above
                    if _overlap(a, b) > 0.5 * min(a.height, b.height)
                    and b.top - a.bottom < b.height
                    and not crosses(max(a.x0, b.x0), min(a.x1, b.x1), a.bottom - b.height / 2, b.cy)
                ),
                None,
            )
            if cell is None:
                rest.append(Box(b.text, b.x0, b.top, b.x1, b.bottom))
            else:
                cell.text = collapse(cell.text + " " + b.text)
                cell.x0, cell.x1 = min(cell.x0, b.x0), max(cell.x1, b.x1)
                cell.bottom = max(cell.bottom, b.bottom)
        if rest:
            cy = _line_cy(rest)
            # Tested box by box: a merged cell's label has no ruled line above it.
            if rows and not any(crosses(b.x0, b.x1, last_cy, cy) for b in rest):
                rows[-1] = sorted(rows[-1] + rest, key=lambda b: b.x0)
            else:
                rows.append(rest)
            last_cy = cy
    return [[collapse(b.text) for b in row] for row in rows]


def layout(
    lines: list[list[Box]],
    crosses: RuleTest | None = None,
    edges: tuple[float, float] | None = None,
) -> list[Block]:
    """Turn lines (from :func:`group_lines`) into paragraphs and text-only tables.

    ``crosses(x0, x1, y0, y1)`` says whether a ruled line runs across that strip of the page
    image; given it, wrapped cell text is put back together (see :func:`_merge_wrapped`).
    ``edges`` are the page's text margins (see :func:`margins`) when ``lines`` are only part
    of a page; by default they are measured on ``lines``.
    """
    left, right = edges if edges is not None else margins(lines)
    is_row = _table_rows(lines)
    if crosses is not None:
        _attach_trailing(lines, is_row, crosses)
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and is_row[j] == is_row[i]:
            j += 1
        run = lines[i:j]
        if is_row[i]:
            rows = _merge_wrapped(run, crosses) if crosses is not None else None
            if rows is None:
                rows = [[collapse(b.text) for b in line] for line in run]
            blocks.append(Table(rows, positional=False))
        else:
            blocks.extend(_paragraphs(run, left, right))
        i = j
    return blocks


def rule_detector(image: Image.Image) -> RuleTest:
    """``crosses`` for :func:`layout`: is some pixel row of the strip at least 90% ink?

    A ruled line inks a whole pixel row across a cell; a row of text reaches about 60%
    (strokes at the same height in neighbouring characters) and has gaps between characters.
    """
    gray = np.asarray(image.convert("L"))
    height, width = gray.shape

    def crosses(x0: float, x1: float, y0: float, y1: float) -> bool:
        xa, xb = max(0, int(x0)), min(width, int(x1) + 1)
        ya, yb = max(0, int(min(y0, y1))), min(height, int(max(y0, y1)) + 1)
        if xb - xa < 2 or yb <= ya:
            return False
        dark = gray[ya:yb, xa:xb] < _DARK
        return bool((dark.mean(axis=1) >= 0.9).any())

    return crosses


def _get_engine() -> Any:
    global _engine
    with _engine_lock:
        if _engine is None:
            try:
                from rapidocr import RapidOCR
            except ImportError as exc:
                raise ParseError(
                    "converter-missing",
                    "OCR engine rapidocr is not installed: pip install rapidocr onnxruntime",
                ) from exc
            # The direction classifier flips some upright mixed Chinese/Latin lines (seen: a
            # whole sentence read as "25"); report pages are upright, so it is switched off.
            _engine = RapidOCR(params={"Global.log_level": "warning", "Global.use_cls": False})
        return _engine


def _to_rgb(image: Image.Image) -> Image.Image:
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def ocr_boxes(image: Image.Image) -> tuple[list[Box], list[float]]:
    """Text boxes and their recognition scores for one page image."""
    result = _get_engine()(_to_rgb(image))
    boxes = getattr(result, "boxes", None)
    txts = getattr(result, "txts", None)
    scores = getattr(result, "scores", None)
    if boxes is None or txts is None or scores is None:
        return [], []
    out: list[Box] = []
    kept: list[float] = []
    for quad, text, score in zip(boxes, txts, scores, strict=True):
        xs = [float(p[0]) for p in quad]
        ys = [float(p[1]) for p in quad]
        if text.strip():
            out.append(Box(text.strip(), min(xs), min(ys), max(xs), max(ys)))
            kept.append(float(score))
    return out, kept


def score_note(scores: list[float]) -> str:
    mean = statistics.fmean(scores) if scores else 0.0
    return f"ocr: {len(scores)} boxes, mean score {mean:.2f}"


def page_lines(image: Image.Image) -> tuple[list[list[Box]], list[float]]:
    """OCR one page image into lines (page numbers dropped) and recognition scores."""
    boxes, scores = ocr_boxes(image)
    return drop_page_numbers(group_lines(boxes), image.height), scores


def read_images(images: list[Image.Image]) -> Document:
    """OCR page images in order into one document (kind ``image``).

    Margins are measured over all pages together (they come from one scanner or renderer).
    """
    pages = [page_lines(image) for image in images]
    edges = margins([line for lines, _ in pages for line in lines])
    blocks: list[Block] = []
    for image, (lines, _) in zip(images, pages, strict=True):
        blocks.extend(layout(lines, rule_detector(image), edges))
    scores = [score for _, page_scores in pages for score in page_scores]
    return Document(blocks=blocks, kind="image", notes=[score_note(scores)])


def read_image(data: bytes) -> Document:
    """OCR an image file (PNG/JPEG/GIF/BMP/TIFF/WebP; every frame of a multi-page TIFF)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            frames = []
            for frame in ImageSequence.Iterator(image):
                if len(frames) == MAX_FRAMES:
                    raise ParseError("too-large", f"image has more than {MAX_FRAMES} frames")
                frame.load()
                frames.append(frame.copy())
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ParseError("too-large", f"image is too large to read safely: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ParseError("unreadable", f"image is corrupt or unsupported: {exc}") from exc
    return read_images(frames)
