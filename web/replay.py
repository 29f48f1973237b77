"""The archived copy of a version, replayed without letting it act in the app's origin.

The page around it (capture time, URL, digests) is ours; the archived bytes are served on a
separate response whose ``Content-Security-Policy: sandbox`` puts them in an opaque origin
with scripts, forms and plugins off, even when opened directly rather than in the page's
``<iframe sandbox>``. They fetch nothing (``default-src 'none'``): an archived page's links
and images would otherwise ask the app, or the live site, for more.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nianbao.archive.pointer import WarcPointer
from nianbao.archive.reader import ArchiveIntegrityError, read_payload, read_record_headers

SANDBOX_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
               "font-src data:; frame-ancestors 'self'")
SAFE_TYPES = ("text/html", "text/plain", "application/pdf", "image/", "text/xml",
              "application/xhtml+xml")


@dataclass(frozen=True)
class Capture:
    url: str
    captured_at: str  # WARC-Date
    record_id: str
    payload_digest: str
    sha256: str
    content_type: str
    body: bytes
    revisit_of: str | None  # the original record's WARC-Target-URI/date for a revisit


def load_capture(archive_dir: Path, pointer_dict: dict) -> Capture:
    """The exact archived bytes (digest-checked) and what the record says about them.
    Raises ArchiveIntegrityError / OSError when they cannot be read as recorded."""
    pointer = WarcPointer.from_dict(pointer_dict)
    warc, http = read_record_headers(archive_dir, pointer.file, pointer.offset)
    body = read_payload(archive_dir, pointer)
    content_type = (http.get_header("Content-Type") if http else None) or \
        "application/octet-stream"
    revisit = None
    if warc.get_header("WARC-Type") == "revisit":
        revisit = (f"{warc.get_header('WARC-Refers-To-Target-URI')} "
                   f"{warc.get_header('WARC-Refers-To-Date')}")
    return Capture(url=warc.get_header("WARC-Target-URI"), captured_at=warc.get_header(
        "WARC-Date"), record_id=pointer.record_id, payload_digest=pointer.payload_digest,
        sha256=pointer.sha256, content_type=content_type, body=body, revisit_of=revisit)


def served_type(content_type: str) -> str:
    """The Content-Type the raw bytes are served with: the archived one when it is a kind
    a browser shows inertly under the sandbox, else a download."""
    bare = content_type.split(";")[0].strip().lower()
    if bare.startswith(SAFE_TYPES) and bare != "image/svg+xml":
        return content_type
    return "application/octet-stream"


__all__ = ["SANDBOX_CSP", "ArchiveIntegrityError", "Capture", "load_capture", "served_type"]
