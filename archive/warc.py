"""The WARC archive every fetched response goes into.

Journalists cite these copies, so every record must replay in pywb / ReplayWeb.page and
read back byte for byte: gzip-per-record WARC 1.1 written with warcio, ``.open`` files
recovered at the next open after a kill. A record is on disk before any stored row points to
it: written with ``sync=False`` (the crawl), it is fsynced by :meth:`WarcArchive.make_durable`,
which the crawl calls before it stores such a row — one fsync then covers every record written
since the last, and it runs off the crawl's event loop (a killed process loses nothing written;
only a power cut could take back records no row points to yet). The index lines of a file
still ``.open`` are not fsynced one by one: recovery re-derives them from the file itself, so
they are made durable once, before the file is closed (renamed).
Identical payloads are stored once: a later 200 whose body was already archived (in any
file of the directory, by any run) becomes an identical-payload-digest ``revisit``; a 304 Not
Modified becomes a server-not-modified ``revisit`` of the latest archived response of its URL,
so a replay of the recrawl shows that response's body instead of an empty page. Closing the
archive leaves ``index.cdxj`` sorted for pywb.
"""

from __future__ import annotations

import hashlib
import os
import threading
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from w3lib.url import safe_url_string
from warcio.recordloader import ArcWarcRecord

from nianbao.archive import headers, records
from nianbao.archive.cdxj import CdxjIndex
from nianbao.archive.files import OPEN_SUFFIX, WarcFile
from nianbao.archive.pointer import WarcPointer
from nianbao.archive.reader import (
    ArchiveIntegrityError,
    read_record_headers,
    read_response,
    sha1_digest,
)
from nianbao.archive.recovery import recover


class Archived(NamedTuple):
    """An archived exchange: where its response lives, and the payload that response holds."""

    pointer: WarcPointer
    payload: bytes


class WarcArchive:
    """Append-only WARC archive in ``directory``, rolling files over past ``max_bytes``.

    Opening recovers files left ``.open`` by a killed run and loads the payload digests of
    ``index.cdxj``. Use as a context manager or call :meth:`close`. Safe to call from several
    threads; several processes may share the directory (each writes its own files).
    """

    def __init__(
        self,
        directory: Path,
        max_bytes: int,
        software: str = "nianbao",
        operator: str | None = None,
    ):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._info = {
            "software": f"{software} (warcio {version('warcio')})",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "operator": operator or "",
            "http-payloads": (
                "decoded: Content-Encoding removed by the HTTP client; the server's "
                "Content-Encoding, Transfer-Encoding and Content-Length are kept as "
                f"{headers.ORIG_PREFIX}* headers"
            ),
        }
        self._index = CdxjIndex(self.directory)
        self.recovered = recover(self.directory, self._index)
        self._originals, self._latest = self._index.scan()
        self._file: WarcFile | None = None
        self._file_has_exchanges = False
        self._index_unsynced = False  # index lines of the open file not fsynced yet
        self._seq = 0
        self._lock = threading.Lock()

    def __enter__(self) -> WarcArchive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the current file (renaming it to ``.warc.gz``) and sort the index; the archive
        stays usable."""
        with self._lock:
            self._close_file()
            self._index.sort()

    def write_exchange(self, **exchange: Any) -> WarcPointer:
        """Archive one request/response exchange (as :meth:`archive_exchange`) and return where
        its response lives."""
        return self.archive_exchange(**exchange).pointer

    def archive_exchange(
        self,
        *,
        url: str,
        method: str,
        request_headers: list[tuple[str, str]],
        status: int,
        reason: str,
        response_headers: list[tuple[str, str]],
        body: bytes,
        fetched_at: datetime,
        protocol: str = "HTTP/1.1",
        rendered_by: str | None = None,
        ip: str | None = None,
        sync: bool = True,
    ) -> Archived:
        """Archive one request/response exchange; return where its response lives and the
        payload it holds (for a 304: the body of the archived response it confirms, read back
        and checked, or ``b""`` when there is none).

        ``body`` is the decoded payload (see :mod:`nianbao.archive.headers`). ``rendered_by`` marks
        a browser-rendered DOM: written in full, flagged in the response record itself and
        described by a ``metadata`` record, never turned into a revisit. ``sync=False`` for an
        exchange made durable later, by :meth:`make_durable` before a row points to it, or by
        the next synced write or the close.
        """
        url = url if url.isascii() else safe_url_string(url)
        date = records.warc_date(fetched_at)
        digest = sha1_digest(body)
        extra = {"WARC-IP-Address": ip} if ip else {}
        wire = headers.wire_protocol(protocol)
        if wire:
            extra["WARC-Protocol"] = wire
        head = headers.response_head(protocol, status, reason, response_headers, len(body), method)
        with self._lock:
            original = (
                self._original(digest) if status == 200 and body and not rendered_by else None
            )
            unchanged = self._not_modified_of(url) if status == 304 and not rendered_by else None
            if unchanged:
                original, body = unchanged
                main = records.not_modified(url, date, original, extra)
            elif original:
                main = records.revisit(url, date, head, digest, original, extra)
            else:
                flag = {records.RENDERED_BY: rendered_by} if rendered_by else {}
                main = records.response(url, date, head, body, {**extra, **flag})
            if original:
                self._durable_elsewhere(original.file)
            main_id = records.record_id(main)
            exchange = [
                main,
                records.request(
                    url,
                    date,
                    headers.request_head(method, url, protocol, request_headers),
                    main_id,
                    extra,
                ),
            ]
            if rendered_by:
                exchange.append(records.metadata(url, date, main_id, _rendered_fields(rendered_by)))
            if unchanged:
                exchange.append(records.metadata(url, date, main_id,
                                                 records.not_modified_fields(head)))
            return Archived(self._append(exchange, body, original, sync), body)

    def unsynced(self, file: str) -> bool:
        """Whether ``file`` holds records not yet fsynced (then :meth:`make_durable` is due)."""
        with self._lock:
            return self._file is not None and self._file.name == file \
                and self._file.synced < self._file.size

    def make_durable(self, file: str) -> None:
        """Make every record written so far to ``file`` durable (fsync), before a stored row
        points to one of them. The fsync runs outside the archive's lock, so other threads
        (the crawl's event loop) go on writing meanwhile; a file already closed was fsynced
        when it was closed. Raises OSError when the disk refuses (the archive has failed)."""
        with self._lock:
            current = self._file
            handle = current.sync_handle() if current is not None and current.name == file \
                else None
        if handle is None:
            return
        fd, size = handle
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        with self._lock:
            current.synced = max(current.synced, size)

    def _append(
        self, exchange: list[ArcWarcRecord], body: bytes, original: records.Original | None,
        sync: bool = True,
    ) -> WarcPointer:
        blob, spans = records.serialize(exchange)
        if self._file and self._file_has_exchanges and self._file.size + len(blob) > self.max_bytes:
            self._close_file()
        if self._file is None:
            self._file, self._seq = WarcFile.create(self.directory, self._seq, self._info)
            self._seq += 1
            self._file_has_exchanges = False
        base = self._file.append(blob, sync)
        self._file_has_exchanges = True
        main = exchange[0]
        offset, length = base + spans[0][0], spans[0][1]
        entry = records.index_entry(main, offset, length, self._file.name)
        if entry:
            self._index.append([entry], sync=False)  # see the module docstring
            self._index_unsynced = True
            if entry.is_original:
                self._originals.setdefault(entry.digest, (self._file.name, offset))
                self._latest[entry.url] = (self._file.name, offset)
        return WarcPointer(
            file=self._file.name,
            offset=offset,
            length=length,
            record_id=records.record_id(main),
            payload_digest=main.rec_headers.get_header("WARC-Payload-Digest"),
            sha256=hashlib.sha256(body).hexdigest(),
            revisit=original is not None,
            refers_to=(original.file, original.offset) if original else None,
        )

    def _durable_elsewhere(self, file: str) -> None:
        """A record about to be cited (a revisit's original) in a file another writer still has
        open: fsynced first, since that writer makes its records durable only before its own
        rows point to them. This archive's own files are made durable with what cites them."""
        if self._file is not None and file == self._file.name:
            return
        try:
            fd = os.open(self.directory / (file + OPEN_SUFFIX), os.O_RDONLY)
        except FileNotFoundError:
            return  # closed: fsynced when its writer closed it
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _not_modified_of(self, url: str) -> tuple[records.Original, bytes] | None:
        """The latest archived response of ``url`` and its body (read back and checked), which
        a 304 for it confirms; None when there is none (then the 304 is archived as is)."""
        location = self._latest.get(url)
        if location is None:
            return None
        try:
            warc, body = read_response(self.directory, *location)
            if warc.get_header(records.RENDERED_BY) is not None:
                raise ArchiveIntegrityError("not a server response")
            digest = warc.get_header("WARC-Payload-Digest")
            record_id = warc.get_header("WARC-Record-ID")
        except (OSError, ArchiveIntegrityError):
            del self._latest[url]
            return None
        original = records.Original(file=location[0], offset=location[1], record_id=record_id,
                                    target_uri=warc.get_header("WARC-Target-URI"),
                                    date=warc.get_header("WARC-Date"), digest=digest)
        return original, body

    def _original(self, digest: str) -> records.Original | None:
        """The archived response holding this payload, re-read from disk so the revisit cites
        its exact record id and date; forgotten (and the body written in full) if that
        record is gone, is not what the index said, or is a rendered DOM (a server's bytes
        should not be cited as "identical to" a browser's serialisation)."""
        key = digest.removeprefix("sha1:")
        location = self._originals.get(key)
        if location is None:
            return None
        try:
            warc, _ = read_record_headers(self.directory, *location)
        except (OSError, ArchiveIntegrityError):
            warc = None
        if (
            warc is None
            or warc.get_header("WARC-Type") != "response"
            or warc.get_header("WARC-Payload-Digest") != digest
            or warc.get_header(records.RENDERED_BY) is not None
        ):
            del self._originals[key]
            return None
        return records.Original(
            file=location[0],
            offset=location[1],
            record_id=warc.get_header("WARC-Record-ID"),
            target_uri=warc.get_header("WARC-Target-URI"),
            date=warc.get_header("WARC-Date"),
            digest=digest,
        )

    def _close_file(self) -> None:
        if self._file is not None:
            if self._index_unsynced:  # before the rename, after which recovery would not
                self._index.sync()
                self._index_unsynced = False
            self._file.close()
            self._file = None


def _rendered_fields(rendered_by: str) -> list[tuple[str, str]]:
    return [
        ("rendered-by", rendered_by),
        (
            "payload",
            "browser-rendered DOM serialisation, not the bytes the server sent; "
            "the HTTP headers are those of the server's response",
        ),
    ]
