"""Tell a file's kind from its bytes, not its name: portals mislabel attachments all the time."""

from __future__ import annotations

import io
import zipfile

IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "image",
    b"\xff\xd8\xff": "image",
    b"GIF87a": "image",
    b"GIF89a": "image",
    b"BM": "image",
    b"II*\x00": "image",
    b"MM\x00*": "image",
}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, .wps, .xls, .et


def sniff(data: bytes) -> str:
    """One of pdf, docx, ole (doc/wps), rtf, image, html, text, binary, empty."""
    head = data[:16]
    if not data.strip():
        return "empty"
    if data.lstrip()[:5] == b"%PDF-" or b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
        except zipfile.BadZipFile:
            return "binary"
        if "word/document.xml" in names:
            return "docx"
        if "content.xml" in names:
            return "odt"
        return "binary"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image"
    for magic, kind in IMAGE_MAGIC.items():
        if head.startswith(magic):
            return kind
    sample = data[:65536]
    if b"\x00" in sample and not sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary"
    lowered = sample.lower()
    if any(tag in lowered for tag in (b"<html", b"<!doctype html", b"<body", b"<table", b"<p>")):
        return "html"
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    if control > len(sample) * 0.01:
        return "binary"
    return "text"
