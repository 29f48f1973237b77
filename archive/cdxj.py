"""The append-only CDXJ index: pywb's line format, and the digest memory behind revisits.

Each line is ``<SURT urlkey> <14-digit timestamp> <JSON>`` with the JSON fields pywb's own
indexer writes (url, mime, status, digest, length, offset, filename; numbers as strings,
digest without the ``sha1:`` prefix, ``warc/revisit`` as the mime of revisits, which have no
status). Only response and revisit records are indexed, as pywb does by default. Lines are
appended in fetch order while a crawl writes; closing the archive (and recovery) rewrites the
file sorted the way pywb's own indexer sorts it (by line, in code-point order, which for these
ASCII lines is ``LC_ALL=C sort``): pywb binary-searches the index, so an unsorted line is a
capture it cannot find.

Several runs may share the directory: appends and rewrites happen under the directory lock
(:func:`nianbao.archive.fsio.directory_lock`), appends use ``O_APPEND`` and whole lines, and a
reader skips a last line that has no newline yet (being written, or torn by a crash).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from nianbao.archive.fsio import directory_lock, fsync_dir, write_all

INDEX_NAME = "index.cdxj"
REVISIT_MIME = "warc/revisit"
# SHA-1 of zero bytes: never worth a revisit, and a 304 would otherwise become an "original".
EMPTY_DIGEST = "3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"


@dataclass(frozen=True)
class CdxjEntry:
    """One index line."""

    urlkey: str
    timestamp: str
    url: str
    mime: str
    status: str
    digest: str
    length: int
    offset: int
    filename: str

    def to_line(self) -> str:
        fields = {"url": self.url, "mime": self.mime, "status": self.status}
        if self.status == "-":  # pywb leaves the key out rather than writing "-"
            del fields["status"]
        fields |= {
            "digest": self.digest,
            "length": str(self.length),
            "offset": str(self.offset),
            "filename": self.filename,
        }
        return f"{self.urlkey} {self.timestamp} {json.dumps(fields)}\n"

    @classmethod
    def from_line(cls, line: str) -> CdxjEntry | None:
        """Parse a line; ``None`` for anything malformed (a torn or foreign line)."""
        try:
            urlkey, timestamp, blob = line.rstrip("\n").split(" ", 2)
            fields = json.loads(blob)
            return cls(
                urlkey=urlkey,
                timestamp=timestamp,
                url=fields["url"],
                mime=fields["mime"],
                status=fields.get("status", "-"),
                digest=fields["digest"],
                length=int(fields["length"]),
                offset=int(fields["offset"]),
                filename=fields["filename"],
            )
        except (ValueError, KeyError, TypeError):
            return None

    @property
    def is_original(self) -> bool:
        """Whether a later identical payload may be written as a revisit of this record."""
        return self.status == "200" and self.mime != REVISIT_MIME and self.digest != EMPTY_DIGEST


class CdxjIndex:
    """``index.cdxj`` in an archive directory."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.path = directory / INDEX_NAME

    def entries(self) -> Iterator[CdxjEntry]:
        """Every well-formed, newline-terminated line, in file order."""
        try:
            f = self.path.open(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        with f:
            for line in f:
                entry = CdxjEntry.from_line(line) if line.endswith("\n") else None
                if entry:
                    yield entry

    def originals(self) -> dict[str, tuple[str, int]]:
        """Digest (base32, no prefix) -> (file, offset) of the first response holding it."""
        return self.scan()[0]

    def scan(self) -> tuple[dict[str, tuple[str, int]], dict[str, tuple[str, int]]]:
        """``originals()``, and URL -> (file, offset) of the latest response that holds a body
        (what a later 304 for that URL refers to)."""
        found: dict[str, tuple[str, int]] = {}
        latest: dict[str, tuple[str, str, int]] = {}
        for entry in self.entries():
            if entry.is_original:
                found.setdefault(entry.digest, (entry.filename, entry.offset))
                if entry.timestamp >= latest.get(entry.url, ("",))[0]:
                    latest[entry.url] = (entry.timestamp, entry.filename, entry.offset)
        return found, {url: (name, offset) for url, (_, name, offset) in latest.items()}

    def sort(self) -> None:
        """Rewrite the index sorted (see the module docstring); a no-op when it already is."""
        with directory_lock(self.directory):
            try:
                lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines(True)
            except FileNotFoundError:
                return
            kept = [line for line in lines if line.endswith("\n") and CdxjEntry.from_line(line)]
            ordered = sorted(kept)
            if ordered == lines:
                return
            self._write(ordered)

    def _write(self, lines: Iterable[str]) -> None:
        """Replace the file with ``lines`` (call under the directory lock): a temporary file
        renamed over it, so a crash leaves the old or the new index."""
        tmp = self.path.with_name(INDEX_NAME + ".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            out.writelines(lines)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
        fsync_dir(self.directory)

    def append(self, entries: Iterable[CdxjEntry], sync: bool = True) -> None:
        """Append whole lines durably (``sync=False``: for lines of records written without an
        fsync, which recovery re-derives); repair a torn last line first so ours stay
        parseable."""
        data = "".join(entry.to_line() for entry in entries).encode("utf-8")
        if not data:
            return
        with directory_lock(self.directory):
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data
                write_all(fd, data)
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)

    def sync(self) -> None:
        """Make every line appended so far durable (one fsync for lines appended without)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def replace_files(self, filenames: set[str], entries: Iterable[CdxjEntry]) -> None:
        """Drop every line pointing into ``filenames`` (and malformed lines); add ``entries``.

        Used by recovery, which re-derives the lines of a recovered file from its records.
        The result is sorted, like every index this class leaves behind.
        """
        with directory_lock(self.directory):
            kept = [entry.to_line() for entry in self.entries()
                    if entry.filename not in filenames]
            self._write(sorted([*kept, *(entry.to_line() for entry in entries)]))
