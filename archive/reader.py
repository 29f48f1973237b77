"""Reading one record back by (file, offset): seek, inflate one gzip member, verify.

Never reads a whole WARC: a citation resolves in one seek whatever the file size. A pointer
names the file without ``.open``; the file may still be open (being written or not yet
recovered) or closed, and may be renamed between two looks, so both names are tried.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParserException

from nianbao.archive.files import OPEN_SUFFIX
from nianbao.archive.pointer import WarcPointer


class ArchiveIntegrityError(Exception):
    """A record is missing, is not the one the pointer names, or its bytes fail their digest."""


def sha1_digest(body: bytes) -> str:
    """warcio's payload-digest form: ``sha1:`` + base32."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def _open(directory: Path, name: str) -> BinaryIO:
    # Closed name first; then the .open name; then the closed name again, in case the
    # writer renamed the file between our two attempts.
    for candidate in (name, name + OPEN_SUFFIX, name):
        try:
            return (directory / candidate).open("rb")
        except FileNotFoundError:
            continue
    raise FileNotFoundError(directory / name)


@contextmanager
def _record_at(directory: Path, name: str, offset: int) -> Iterator[ArcWarcRecord]:
    """The record at ``offset``; damage found while parsing or reading it (a bad gzip
    member, unparsable headers) surfaces as :class:`ArchiveIntegrityError`."""
    with _open(directory, name) as f:
        f.seek(offset)
        records = ArchiveIterator(f)
        try:
            yield next(records)
        except StopIteration:
            raise ArchiveIntegrityError(f"no record at {name}:{offset}") from None
        except (ArchiveLoadFailed, StatusAndHeadersParserException, zlib.error, EOFError) as e:
            raise ArchiveIntegrityError(f"damaged record at {name}:{offset}: {e}") from e
        finally:
            records.close()


def read_record_headers(
    directory: Path, name: str, offset: int
) -> tuple[StatusAndHeaders, StatusAndHeaders | None]:
    """The WARC headers and (for request/response/revisit) the HTTP head of one record."""
    with _record_at(directory, name, offset) as record:
        return record.rec_headers, record.http_headers


def read_response(directory: Path, name: str, offset: int) -> tuple[StatusAndHeaders, bytes]:
    """The WARC headers and the body of the response record at ``offset``, in one read; the
    body is checked against the record's WARC-Payload-Digest."""
    with _record_at(directory, name, offset) as record:
        if record.rec_type != "response":
            raise ArchiveIntegrityError(f"{name}:{offset} is no response")
        headers = record.rec_headers
        body = record.raw_stream.read()
    if sha1_digest(body) != headers.get_header("WARC-Payload-Digest"):
        raise ArchiveIntegrityError(f"payload digest mismatch at {name}:{offset}")
    return headers, body


def read_payload(directory: Path, pointer: WarcPointer, check_sha256: bool = True) -> bytes:
    """The exact body bytes of a response, following a revisit to its original.

    The bytes are checked against the record's WARC-Payload-Digest and the pointer's SHA-256,
    so a caller never cites bytes that differ from what was archived.
    """
    with _record_at(directory, pointer.file, pointer.offset) as record:
        headers = record.rec_headers
        if headers.get_header("WARC-Record-ID") != pointer.record_id:
            raise ArchiveIntegrityError(f"{pointer.file}:{pointer.offset} is another record")
        expected = headers.get_header("WARC-Payload-Digest")
        if record.rec_type == "revisit":
            if pointer.refers_to is None:
                raise ArchiveIntegrityError("revisit pointer without refers_to")
            with _record_at(directory, *pointer.refers_to) as original:
                if original.rec_type != "response":
                    raise ArchiveIntegrityError(
                        f"revisit target {pointer.refers_to} is no response"
                    )
                body = original.raw_stream.read()
        else:
            body = record.raw_stream.read()
    if sha1_digest(body) != expected or (
            check_sha256 and hashlib.sha256(body).hexdigest() != pointer.sha256):
        raise ArchiveIntegrityError(f"payload digest mismatch at {pointer.file}:{pointer.offset}")
    return body
