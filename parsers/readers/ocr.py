"""Read scanned pages (images, image-only PDFs) with rapidocr, and rebuild a page's layout.

Many 年度报告 are published as 图片版: photos or scans with no text layer. rapidocr ships its
PP-OCR models in the wheel and runs offline, but it returns loose text boxes, not a layout, and
a ruled table is exactly where loose boxes go wrong: labels wrap over several lines beside
numbers centred between them. So the ruled lines are found in the image itself (morphology
with OpenCV, which rapidocr already depends on); the spaces they enclose are the cells, merged
cells included, and each recognised character goes to the cell under it. Such tables are
``positional``: a blank cell is a cell the scan shows empty.

The rest of a page is rebuilt from geometry: glyphs whose vertical centres overlap form a line,
wide gaps split a line into segments, consecutive lines of several segments are an unruled
table (``positional=False``), and single-segment lines are prose joined into paragraphs.

The page geometry is shared with the PDF reader and lives in :mod:`layout`.
"""

from __future__ import annotations

import io
import statistics
import threading
import warnings
from typing import Any

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from nianbao.parsers.document import Document
from nianbao.parsers.errors import ParseError
from nianbao.parsers.readers.layout import (
    BBox,
    Box,
    Item,
    Page,
    assemble,
    find_grids,
    page_items,
)

MAX_FRAMES = 50  # pages of a multi-frame TIFF/GIF; a report is rarely over 20

_engine: Any = None
_engine_lock = threading.Lock()


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


def _bbox(quad: Any) -> BBox:
    xs = [float(p[0]) for p in quad]
    ys = [float(p[1]) for p in quad]
    return min(xs), min(ys), max(xs), max(ys)


def ocr_glyphs(image: Image.Image) -> tuple[list[Box], list[float], float]:
    """Recognised characters/words of one page image (pixels), their text boxes' scores, and
    the median text box height. Word boxes let a text box that OCR ran across a ruled line
    ("信0 0 0") be split between the cells it crosses."""
    result = _get_engine()(_to_rgb(image), return_word_box=True)
    boxes = getattr(result, "boxes", None)
    txts = getattr(result, "txts", None)
    scores = getattr(result, "scores", None)
    if boxes is None or txts is None or scores is None:
        return [], [], 0.0
    words = getattr(result, "word_results", None) or [()] * len(txts)
    glyphs: list[Box] = []
    kept: list[float] = []
    heights: list[float] = []
    for quad, text, score, parts in zip(boxes, txts, scores, words, strict=True):
        if not text.strip():
            continue
        x0, top, x1, bottom = _bbox(quad)
        heights.append(bottom - top)
        kept.append(float(score))
        pieces = [(w, _bbox(q)) for w, _, q in parts if w.strip() and q is not None]
        if pieces:
            glyphs.extend(Box(w.strip(), b[0], top, b[2], bottom) for w, b in pieces)
        else:
            glyphs.append(Box(text.strip(), x0, top, x1, bottom))
    return glyphs, kept, statistics.median(heights) if heights else 0.0


def ocr_page(image: Image.Image) -> tuple[list[Item], list[float]]:
    """OCR one page image into placed items (pixels) and recognition scores."""
    glyphs, scores, text_height = ocr_glyphs(image)
    tables = find_grids(image, text_height) if glyphs else []
    return page_items(glyphs, tables, image.height), scores


def score_note(scores: list[float]) -> str:
    mean = statistics.fmean(scores) if scores else 0.0
    return f"ocr: {len(scores)} boxes, mean score {mean:.2f}"


def read_images(images: list[Image.Image]) -> Document:
    """OCR page images in order into one document (kind ``image``)."""
    pages: list[Page] = []
    scores: list[float] = []
    for image in images:
        items, page_scores = ocr_page(image)
        pages.append(Page(items, space=f"{image.width}x{image.height}"))
        scores.extend(page_scores)
    blocks, _ = assemble(pages)
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
