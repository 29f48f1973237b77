"""From bytes to the canonical record: pick the reader by content, read, build the record."""

from __future__ import annotations

from nianbao.parsers.document import DateEvidence, Document
from nianbao.parsers.encoding import decode_page
from nianbao.parsers.errors import ParseError
from nianbao.parsers.readers.text import read_text
from nianbao.parsers.record import build_record
from nianbao.parsers.sniff import sniff
from nianbao.settings import settings


def read_document(data: bytes, source: str = "", content_type: str | None = None) -> Document:
    kind = sniff(data)
    if kind == "empty":
        raise ParseError("unreadable", "the file is empty")
    if kind == "binary":
        raise ParseError("unreadable", "not a document: binary data of no known document type")
    if kind == "html":
        from nianbao.parsers.readers.html import read_html

        text, encoding = decode_page(data, content_type)
        return read_html(text, utf8=data if encoding == "utf-8" else None)
    if kind == "text":
        return read_text(decode_page(data)[0])
    if kind == "docx":
        from nianbao.parsers.readers.docx import read_docx

        return read_docx(data)
    if kind in ("ole", "rtf", "odt"):
        from nianbao.parsers.readers.docx import read_docx
        from nianbao.parsers.readers.legacy import convert_to_docx

        suffix = {"ole": ".doc", "rtf": ".rtf", "odt": ".odt"}[kind]
        if source.lower().endswith(".wps"):
            suffix = ".wps"
        timeout = float(settings()["parse"]["conversion_timeout_seconds"])
        doc = read_docx(convert_to_docx(data, suffix, timeout=timeout))
        doc.kind = kind if kind != "ole" else "doc"
        return doc
    if kind == "pdf":
        from nianbao.parsers.readers.pdf import read_pdf

        return read_pdf(data)
    if kind == "image":
        from nianbao.parsers.readers.ocr import read_image

        return read_image(data)
    raise ParseError("unreadable", f"no reader for {kind} files")


def parse_bytes(
    data: bytes,
    source: str,
    content_type: str | None = None,
    dates: list[DateEvidence] | None = None,
) -> dict:
    """Parse one document's bytes; ``dates`` adds evidence known from outside (HTTP, crawl)."""
    doc = read_document(data, source, content_type)
    doc.dates.extend(dates or [])
    return build_record(doc, source)

