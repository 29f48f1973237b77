"""WARC records built with warcio, each serialised as its own gzip member.

One member per record is what makes a ``.warc.gz`` seekable: pywb, ReplayWeb.page and
:func:`nianbao.archive.reader.read_payload` jump to an (offset, length) and inflate one member.
Exchanges are serialised to memory first (the body is already in memory), so the file gets
one write per exchange and we know every record's offset before touching the disk.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from warcio.recordbuilder import RecordBuilder
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date, iso_date_to_timestamp
from warcio.warcwriter import WARCWriter

from nianbao.archive.cdxj import REVISIT_MIME, CdxjEntry
from nianbao.archive.surt import surt

WARC_VERSION = "WARC/1.1"
_BUILDER = RecordBuilder(warc_version=WARC_VERSION)
_MIME_END = re.compile("[; ]")
# Extension WARC field on a response whose body is a browser-rendered DOM: the record says
# so itself, even if the metadata record that explains it was lost to a crash.
RENDERED_BY = "Nianbao-Rendered-By"


@dataclass(frozen=True)
class Original:
    """What a revisit record must cite of the response that holds the payload."""

    file: str
    offset: int
    record_id: str
    target_uri: str
    date: str
    digest: str = ""  # its WARC-Payload-Digest (sha1:<base32>)


def warc_date(moment: datetime) -> str:
    """WARC 1.1 date (UTC, microseconds). A naive datetime is refused: its zone is a guess."""
    if moment.tzinfo is None:
        raise ValueError("fetched_at must be timezone-aware")
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return datetime_to_iso_date(utc, use_micros=True)


def warcinfo(filename: str, fields: dict[str, str]) -> ArcWarcRecord:
    return _BUILDER.create_warcinfo_record(filename, fields)


def response(
    url: str, date: str, head: StatusAndHeaders, body: bytes, extra: dict[str, str]
) -> ArcWarcRecord:
    """A response record; warcio computes WARC-Payload-Digest now and the block digest on write."""
    return _BUILDER.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(body),
        length=len(body),
        http_headers=head,
        warc_headers_dict={"WARC-Date": date, **extra},
    )


def revisit(
    url: str,
    date: str,
    head: StatusAndHeaders,
    digest: str,
    original: Original,
    extra: dict[str, str],
) -> ArcWarcRecord:
    """An identical-payload-digest revisit: HTTP head only, pointing at ``original``."""
    record = _BUILDER.create_revisit_record(
        url,
        digest,
        original.target_uri,
        original.date,
        http_headers=head,
        warc_headers_dict={"WARC-Date": date, **extra},
    )
    record.rec_headers.add_header("WARC-Refers-To", original.record_id)
    return record


NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


def not_modified(url: str, date: str, original: Original, extra: dict[str, str]) -> ArcWarcRecord:
    """A server-not-modified revisit for a 304, pointing at the response that holds the body
    and carrying its payload digest, by which pywb and ReplayWeb.page find that response.

    It has no HTTP head of its own: a replayer takes the head of a revisit that has one, and
    would replay the 304 — an empty page. The 304's head goes into a ``metadata`` record
    (:func:`not_modified_fields`) written with it."""
    record = _BUILDER.create_revisit_record(
        url, original.digest, original.target_uri, original.date,
        warc_headers_dict={"WARC-Date": date, **extra},
    )
    record.rec_headers.replace_header("WARC-Profile", NOT_MODIFIED_PROFILE)
    record.rec_headers.add_header("WARC-Refers-To", original.record_id)
    return record


def not_modified_fields(head: StatusAndHeaders) -> list[tuple[str, str]]:
    """The 304's status line and headers, as the fields of its metadata record."""
    return [("http-status-line", f"{head.protocol} {head.statusline}"),
            *(("http-header", f"{name}: {value}") for name, value in head.headers)]


def request(
    url: str, date: str, head: StatusAndHeaders, concurrent_to: str, extra: dict[str, str]
) -> ArcWarcRecord:
    return _BUILDER.create_warc_record(
        url,
        "request",
        http_headers=head,
        warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": concurrent_to, **extra},
    )


def metadata(
    url: str, date: str, concurrent_to: str, fields: list[tuple[str, str]]
) -> ArcWarcRecord:
    """A ``metadata`` record of ``application/warc-fields`` (which pywb does not index)."""
    text = "".join(f"{name}: {value}\r\n" for name, value in fields).encode("utf-8")
    return _BUILDER.create_warc_record(
        url,
        "metadata",
        payload=io.BytesIO(text),
        length=len(text),
        warc_content_type="application/warc-fields",
        warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": concurrent_to},
    )


def record_id(record: ArcWarcRecord) -> str:
    return record.rec_headers.get_header("WARC-Record-ID")


def serialize(records: list[ArcWarcRecord]) -> tuple[bytes, list[tuple[int, int]]]:
    """The gzip members of ``records`` back to back, and each one's (offset, length)."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True, warc_version=WARC_VERSION)
    spans = []
    for record in records:
        start = buffer.tell()
        writer.write_record(record)
        spans.append((start, buffer.tell() - start))
    return buffer.getvalue(), spans


def index_entry(record: ArcWarcRecord, offset: int, length: int, filename: str) -> CdxjEntry | None:
    """The CDXJ line pywb's indexer would write for this record, or None if it indexes none."""
    if record.rec_type not in ("response", "revisit"):
        return None
    headers = record.rec_headers
    url = headers.get_header("WARC-Target-URI")
    if record.rec_type == "revisit":
        mime, status = REVISIT_MIME, "-"
    else:
        content_type = (
            record.http_headers.get_header("Content-Type") if record.http_headers else None
        )
        mime = _MIME_END.split(content_type, 1)[0] if content_type else "unk"
        status = (record.http_headers.get_statuscode() if record.http_headers else "") or "-"
    digest = headers.get_header("WARC-Payload-Digest") or "-"
    return CdxjEntry(
        urlkey=surt(url),
        timestamp=iso_date_to_timestamp(headers.get_header("WARC-Date")),
        url=url,
        mime=mime,
        status=status,
        digest=digest.removeprefix("sha1:"),
        length=length,
        offset=offset,
        filename=filename,
    )
