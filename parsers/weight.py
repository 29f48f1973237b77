"""Whether a document's parse is heavy: OCR, a LibreOffice conversion, a very long PDF.

Most reports parse in 10–30 ms; a scanned PDF takes OCR of every page (seconds to minutes), a
.doc/.wps a LibreOffice conversion (seconds), a PDF of hundreds of pages as long as its pages.
With a queue (``nianbao worker``), a crawl leaves such documents to a parse job of their own,
which any worker takes, so that one scan neither holds up a platform's crawl nor waits behind
it (``crawler/deferred.py``). The rules are ``parse.heavy`` in ``config/settings.yaml``.

Weighing opens the document (a PDF's pages and their text layers), so it runs where parsing
runs: in a parse worker, under the pool's limits (``parsers/pool.py``), never in the crawl.
"""

from __future__ import annotations

from dataclasses import dataclass

from nianbao.parsers.sniff import sniff

CONVERTED = {"ole": "doc/wps", "rtf": "rtf", "odt": "odt"}  # what LibreOffice converts


@dataclass(frozen=True)
class HeavyRules:
    """``parse.heavy``: which documents are heavy (0 or false turns a rule off)."""

    ocr: bool  # images, and PDFs with pages that have no text layer
    pdf_pages: int  # PDFs of this many pages or more
    convert_kb: int  # documents LibreOffice converts, from this size (0: none)
    size_mb: int  # any document from this size (0: no size rule)

    @classmethod
    def from_settings(cls, parse: dict) -> HeavyRules:
        conf = parse.get("heavy") or {}
        return cls(ocr=bool(conf.get("ocr", True)), pdf_pages=int(conf.get("pdf_pages") or 0),
                   convert_kb=int(conf.get("convert_kb") or 0),
                   size_mb=int(conf.get("size_mb") or 0))

    def as_dict(self) -> dict:
        return {"ocr": self.ocr, "pdf_pages": self.pdf_pages, "convert_kb": self.convert_kb,
                "size_mb": self.size_mb}


class HeavyDocument(Exception):
    """The document is heavy by the rules: parse it in a job of its own."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def heavy_reason(data: bytes, rules: HeavyRules) -> str | None:
    """Why ``data`` is heavy to parse under ``rules`` (one line), or None when it is light."""
    if rules.size_mb and len(data) >= rules.size_mb * 2**20:
        return f"size: {len(data) / 2**20:.1f} MiB"
    kind = sniff(data)
    if kind == "image" and rules.ocr:
        return "ocr: an image"
    if kind in CONVERTED and rules.convert_kb and len(data) >= rules.convert_kb * 1024:
        return f"conversion: {CONVERTED[kind]} of {len(data) // 1024} KiB"
    if kind == "pdf" and (rules.ocr or rules.pdf_pages):
        return _pdf_reason(data, rules)
    return None


def _pdf_reason(data: bytes, rules: HeavyRules) -> str | None:
    """A PDF is heavy for its pages, or for pages the reader would OCR (fewer glyphs than a
    text page has: a scan). An unreadable PDF is light: parsing it fails at once."""
    import pypdfium2 as pdfium

    from nianbao.parsers.readers.pdf import SCAN_MAX_GLYPHS

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return None
    try:
        pages = len(pdf)
        if rules.pdf_pages and pages >= rules.pdf_pages:
            return f"pages: a PDF of {pages} pages"
        if not rules.ocr:
            return None
        scans = []
        for index in range(pages):
            text = pdf[index].get_textpage().get_text_range()
            if len("".join(text.split())) < SCAN_MAX_GLYPHS:
                scans.append(index + 1)
        if scans:
            return f"ocr: {len(scans)} of {pages} PDF pages have no text layer"
        return None
    finally:
        pdf.close()
