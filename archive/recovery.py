"""Closing the ``.warc.gz.open`` files a killed run left behind.

A SIGKILL can cut a file anywhere, most likely inside the gzip member of the record being
written. Recovery keeps the longest prefix made of complete gzip members that each parse as
one WARC record whose digests (if checked) pass, truncates the rest, re-derives that file's
index lines from the records kept (dropping lines that pointed past the cut, adding lines
for records written just before the kill but not yet indexed), then renames the file to its
closed name. Pointers into the file stay valid: they never carry the ``.open`` suffix.

The index is rewritten before the rename, so a crash during recovery leaves a file that the
next run recovers again (recovery is idempotent).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeadersParserException

from nianbao.archive import records
from nianbao.archive.cdxj import CdxjEntry, CdxjIndex
from nianbao.archive.files import OPEN_SUFFIX, WARC_SUFFIX
from nianbao.archive.fsio import directory_lock, fsync_dir, try_lock

_CHUNK = 1 << 20


@dataclass
class _Claimed:
    path: Path
    fd: int

    @property
    def name(self) -> str:
        return self.path.name.removesuffix(OPEN_SUFFIX)


def recover(directory: Path, index: CdxjIndex) -> list[str]:
    """Recover every abandoned ``.open`` file in ``directory``; return their closed names.

    Files still locked by a live writer (another run, or another archive object) are left
    alone.
    """
    claimed = _claim(directory)
    if not claimed:
        return []
    try:
        kept: list[_Claimed] = []
        entries: list[CdxjEntry] = []
        for item in claimed:
            file_entries = _truncate_to_complete_records(item)
            if file_entries is None:
                os.unlink(item.path)
            else:
                kept.append(item)
                entries.extend(file_entries)
        index.replace_files({item.name for item in claimed}, entries)
        for item in kept:
            os.rename(item.path, item.path.with_name(item.name))
        fsync_dir(directory)
        return [item.name for item in kept]
    finally:
        for item in claimed:
            os.close(item.fd)


def _claim(directory: Path) -> list[_Claimed]:
    """Lock every ``.open`` file no live writer holds (under the directory lock, so a file
    being created is either invisible or already locked by its creator)."""
    claimed = []
    with directory_lock(directory):
        for path in sorted(directory.glob("*" + WARC_SUFFIX + OPEN_SUFFIX)):
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue
            if try_lock(fd) and os.stat(path).st_ino == os.fstat(fd).st_ino:
                claimed.append(_Claimed(path, fd))
            else:
                os.close(fd)
    return claimed


def _truncate_to_complete_records(item: _Claimed) -> list[CdxjEntry] | None:
    """Cut the file after its last complete record; its index entries, or None if it holds
    no complete record at all (nothing worth keeping)."""
    with os.fdopen(os.dup(item.fd), "rb") as f:
        ends = list(_complete_member_ends(f))
        f.seek(0)
        cut, entries = _verified_prefix(f, ends, item.name)
    if cut == 0:
        return None
    if cut < os.fstat(item.fd).st_size:
        os.ftruncate(item.fd, cut)
        os.fsync(item.fd)
    return entries


def _complete_member_ends(f: BinaryIO) -> Iterator[int]:
    """End offsets of the complete gzip members at the start of ``f``, in order.

    warcio's iterator cannot be trusted for this: on a member cut short it yields a short
    record without complaint. zlib says exactly where each member's trailer ends.
    """
    position = 0  # file offset of data[0]
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    while chunk := f.read(_CHUNK):
        data = chunk
        while data:
            try:
                inflater.decompress(data, _CHUNK)
            except zlib.error:
                return
            if inflater.eof:
                rest = inflater.unused_data
                position += len(data) - len(rest)
                yield position
                inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
                data = rest
            else:
                position += len(data) - len(inflater.unconsumed_tail)
                data = inflater.unconsumed_tail


def _verified_prefix(f: BinaryIO, ends: list[int], name: str) -> tuple[int, list[CdxjEntry]]:
    """Walk the records member by member; stop at the first that is not exactly one whole,
    digest-clean record. Returns the cut offset and the index entries before it."""
    cut = 0
    entries: list[CdxjEntry] = []
    iterator = ArchiveIterator(f, check_digests=True)
    try:
        for end, record in zip(ends, iterator, strict=False):
            length = iterator.get_record_length()  # reads the record, checking digests
            offset = iterator.get_record_offset()
            if offset != cut or offset + length != end or record.digest_checker.passed is False:
                break
            cut = end
            entry = records.index_entry(record, offset, length, name)
            if entry:
                entries.append(entry)
    except (ArchiveLoadFailed, StatusAndHeadersParserException, EOFError, ValueError, zlib.error):
        pass
    finally:
        iterator.close()
    return cut, entries
