"""Rebuild a page's layout from positioned glyphs: lines, cells, ruled and unruled tables, prose.

OCR (``ocr.py``) and the PDF text layer (``pdf.py``) both end up with glyphs and their boxes but
no structure. The same geometry turns either into blocks: glyphs whose vertical centres overlap
form a line, wide gaps split a line into segments, consecutive lines of several segments are an
unruled table (``positional=False``), single-segment lines are prose joined into paragraphs, and
ruled lines found in a page image (:func:`find_grids`) give a table's cells, merged cells
included (``positional``: a blank cell is a cell the page shows empty). Tables and paragraphs
cut by a page break are stitched back together (:func:`assemble`).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from PIL import Image

from nianbao.parsers.document import Block, Paragraph, Table
from nianbao.parsers.values import collapse

SEGMENT_GAP = 1.5  # a horizontal gap wider than this many glyph heights splits a line into cells
SPACE_GAP = 0.2  # a gap wider than this many glyph heights is a space between words
INK = 160  # grey level below which a pixel is ink, for finding ruled lines

# A line starting like this begins a new paragraph even if the previous line ran to the margin.
NEW_PARAGRAPH = re.compile(
    r"^(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+[.、．](?!\d)"
    r"|第[一二三四五六七八九十\d]+[条章]|附件|注[:：])"
)
_LEADING_LATIN = re.compile(r"[（(]?[!-~]+")
_PAGE_NUMBER = re.compile(r"^(?:[-—－–]*\d{1,3}[-—－–]*|第\d+页(?:[,，]?共\d+页)?|\d+/\d+)$")
# A top-level section heading: never absorbed into an unruled table as a one-cell row.
_SECTION_HEADING = re.compile(r"^[一二三四五六七八九十]+、\S{4,}")

BBox = tuple[float, float, float, float]  # x0, top, x1, bottom


@dataclass
class Box:
    """A glyph, word or segment and its bounding box, y growing downwards."""

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


@dataclass
class Item:
    """Something placed on a page, by its top: a line of segments, or finished blocks (a ruled
    table, an OCR'd picture). ``columns`` are a ruled table's left and right edges."""

    top: float
    line: list[Box] | None = None
    blocks: list[Block] = field(default_factory=list)
    columns: tuple[float, float] | None = None


@dataclass
class Page:
    """A page's items in vertical order. Pages of one ``space`` share coordinates (PDF points,
    or pixels of pages rendered at one resolution), so margins are measured over them all."""

    items: list[Item]
    space: str


# --- lines and segments -----------------------------------------------------------------------


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


def join_glyphs(glyphs: list[Box]) -> str:
    """Text of one line of glyphs; a glyph drawn twice on top of itself (fake bold) once."""
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


def segments(line: list[Box]) -> list[Box]:
    """Split a line of glyphs at wide gaps into segments (the cells of an unruled table)."""
    groups: list[list[Box]] = [[line[0]]]
    for g in line[1:]:
        prev = groups[-1][-1]
        if g.x0 - prev.x1 > SEGMENT_GAP * max(g.height, prev.height, 1.0):
            groups.append([g])
        else:
            groups[-1].append(g)
    return [
        Box(
            join_glyphs(group),
            group[0].x0,
            min(g.top for g in group),
            max(g.x1 for g in group),
            max(g.bottom for g in group),
        )
        for group in groups
    ]


def _line_text(line: list[Box]) -> str:
    return collapse(" ".join(b.text for b in line))


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


# --- ruled tables -----------------------------------------------------------------------------


def inside(g: Box, bbox: BBox) -> bool:
    x0, top, x1, bottom = bbox
    return x0 <= g.cx <= x1 and top <= g.cy <= bottom


def table_rows(rows: list[list[BBox]], glyphs: list[Box]) -> list[list[str]]:
    """Cell texts of a ruled table given as rows of the cells that start in them.

    Each row looks only at the glyphs whose centres lie between its cells' top and bottom
    (found by bisection over the centres, then back in page order), not at every glyph of the
    page for every cell. A glyph without a comparable centre (NaN) is inside no cell."""
    by_cy = sorted((g.cy, i) for i, g in enumerate(glyphs) if g.cy == g.cy)
    cys = [cy for cy, _ in by_cy]
    out = []
    for row in rows:
        texts = []
        near: list[Box] = []
        if row:
            lo = bisect_left(cys, min(cell[1] for cell in row))
            hi = bisect_right(cys, max(cell[3] for cell in row))
            near = [glyphs[i] for i in sorted(i for _, i in by_cy[lo:hi])]
        for cell in row:
            lines = group_lines([g for g in near if inside(g, cell)])
            texts.append(collapse("\n".join(join_glyphs(line) for line in lines)))
        out.append(texts)
    return out


def find_grids(image: Image.Image, text_height: float) -> list[tuple[BBox, list[list[BBox]]]]:
    """Ruled tables in a page image: each table's box and its rows of cells (pixels).

    Horizontal rules are ink runs longer than two text heights (no stroke of a character is);
    vertical rules are ink runs that reach from one horizontal rule to another (strokes keep
    clear of the rules). The white areas the rules enclose are the cells, so a merged cell is
    one area. A row holds the cells whose tops are at the same rule.
    """
    import cv2  # installed with rapidocr (opencv-python-headless)
    import numpy as np  # here, not at the top: a text PDF never needs it (~0.1 s to import)

    th = max(text_height, 8.0)
    ink = (np.asarray(image.convert("L")) < INK).astype(np.uint8)
    rect = cv2.getStructuringElement
    hor = cv2.morphologyEx(ink, cv2.MORPH_OPEN, rect(cv2.MORPH_RECT, (int(2 * th), 1)))
    ver = cv2.morphologyEx(ink, cv2.MORPH_OPEN, rect(cv2.MORPH_RECT, (1, int(0.5 * th))))
    near_hor = cv2.dilate(hor, rect(cv2.MORPH_RECT, (3, 9)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ver, connectivity=8)
    keep = np.zeros(count, dtype=bool)
    for i in range(1, count):
        x, y, w, h, _ = stats[i]
        keep[i] = near_hor[y, x : x + w].any() and near_hor[y + h - 1, x : x + w].any()
    grid = cv2.dilate(hor | keep[labels].astype(np.uint8), np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grid, connectivity=8)
    tables = []
    for i in range(1, count):
        x, y, w, h, _ = (int(v) for v in stats[i])
        if w < 5 * th or h < 1.5 * th:
            continue
        region = (labels[y : y + h, x : x + w] != i).astype(np.uint8)
        n, _, cell_stats, _ = cv2.connectedComponentsWithStats(region, connectivity=4)
        cells = []
        for j in range(1, n):
            cx, cy, cw, ch, _ = (int(v) for v in cell_stats[j])
            touches_edge = cx == 0 or cy == 0 or cx + cw == w or cy + ch == h
            if not touches_edge and cw >= th / 2 and ch >= th / 2:
                cells.append((float(x + cx), float(y + cy), float(x + cx + cw), float(y + cy + ch)))
        if len(cells) < 2:
            continue  # a frame around text, not a table
        rows: list[list[BBox]] = []
        for cell in sorted(cells, key=lambda c: (c[1], c[0])):
            if rows and abs(cell[1] - rows[-1][0][1]) <= th / 2:
                rows[-1].append(cell)
            else:
                rows.append([cell])
        for row in rows:
            row.sort(key=lambda c: c[0])
        tables.append(((float(x), float(y), float(x + w), float(y + h)), rows))
    return tables


# --- page layout ------------------------------------------------------------------------------


def page_items(
    glyphs: list[Box], tables: list[tuple[BBox, list[list[BBox]]]], page_height: float
) -> list[Item]:
    """Ruled tables filled with the glyphs under their cells, and lines of the other glyphs."""
    items = [
        Item(bbox[1], blocks=[Table(table_rows(rows, glyphs))], columns=(bbox[0], bbox[2]))
        for bbox, rows in tables
    ]
    free = [g for g in glyphs if not any(inside(g, bbox) for bbox, _ in tables)]
    lines = drop_page_numbers(group_lines(free), page_height)
    items.extend(Item(line[0].top, line=segments(line)) for line in lines)
    items.sort(key=lambda item: item.top)
    return items


def margins(lines: list[list[Box]]) -> tuple[float, float]:
    """Left and right edges of body text: nearly the leftmost line start and rightmost line end
    (percentiles, so one overlong line does not move the margin). Measure them over a whole
    document: a sparse last page alone says little."""
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


def _unruled_rows(lines: list[list[Box]]) -> list[bool]:
    """Which lines are rows of an unruled table: runs of 2+ lines of 2+ segments, plus a
    one-segment line between two such lines (a row whose other cells are blank) unless it
    reads like a section heading. A lone line of several segments is prose with a wide gap
    (a signature and its date)."""
    multi = [len(line) >= 2 for line in lines]
    row = list(multi)
    for i in range(1, len(lines) - 1):
        if not multi[i] and multi[i - 1] and multi[i + 1]:
            row[i] = not _SECTION_HEADING.match(_line_text(lines[i]))
    i = 0
    while i < len(row):
        j = i
        while j < len(row) and row[j]:
            j += 1
        if j - i == 1:
            row[i] = False
        i = max(j, i + 1)
    return row


def layout(lines: list[list[Box]], edges: tuple[float, float]) -> list[Block]:
    """Paragraphs and unruled tables (``positional=False``) from lines of segments."""
    is_row = _unruled_rows(lines)
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and is_row[j] == is_row[i]:
            j += 1
        if is_row[i]:
            rows = [[collapse(b.text) for b in line] for line in lines[i:j]]
            blocks.append(Table(rows, positional=False))
        else:
            blocks.extend(_paragraphs(lines[i:j], *edges))
        i = j
    return blocks


def layout_items(items: list[Item], edges: tuple[float, float]) -> list[Block]:
    """Blocks of one page's items, in order."""
    blocks: list[Block] = []
    run: list[list[Box]] = []
    for item in items:
        if item.line is not None:
            run.append(item.line)
            continue
        blocks.extend(layout(run, edges))
        run = []
        blocks.extend(item.blocks)
    blocks.extend(layout(run, edges))
    return blocks


def _stitch(last: Block, first: Block, end: Item, start: Item, edges: tuple[float, float]) -> bool:
    """Join ``first`` (a page's first block) into ``last`` (the previous page's last block) when
    the page break split a paragraph or a ruled table.

    Header rows repeated on the new page (Word's "repeat as header row") are dropped, and the
    continued table's first row loses its leading blank cells: they are the rest of row labels
    merged vertically across the break, whose text is on the previous page.
    """
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
        and last.positional
        and first.rows
        and end.columns
        and start.columns
        and all(
            abs(a - b) <= 0.01 * (end.columns[1] - end.columns[0])
            for a, b in zip(end.columns, start.columns, strict=True)
        )
    ):
        repeated = 0
        while repeated < min(len(first.rows), len(last.rows)) - 1 and (
            first.rows[repeated] == last.rows[repeated]
        ):
            repeated += 1
        rows = first.rows[repeated:]
        while rows[0] and not rows[0][0]:
            rows[0].pop(0)
        last.rows.extend(rows)
        return True
    return False


def assemble(pages: list[Page]) -> tuple[list[Block], int]:
    """Lay out pages with margins measured per coordinate space, joining paragraphs and ruled
    tables split by page breaks. Returns the blocks and how many tables were joined."""
    edges = {
        space: margins([i.line for p in pages if p.space == space for i in p.items if i.line])
        for space in {p.space for p in pages}
    }
    blocks: list[Block] = []
    joined = 0
    prev: Page | None = None
    for page in pages:
        page_blocks = layout_items(page.items, edges[page.space])
        if (
            prev is not None
            and prev.space == page.space
            and prev.items
            and page.items
            and blocks
            and page_blocks
            and _stitch(
                blocks[-1], page_blocks[0], prev.items[-1], page.items[0], edges[page.space]
            )
        ):
            joined += isinstance(page_blocks[0], Table)
            page_blocks = page_blocks[1:]
        blocks.extend(page_blocks)
        prev = page
    return blocks, joined
