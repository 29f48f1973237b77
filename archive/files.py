"""The life of one WARC file: created ``.warc.gz.open`` and locked, appended, renamed on close.

The ``.open`` suffix tells every tool (and :mod:`nianbao.archive.recovery`) that the file may end in
a partial record. The writer holds an exclusive ``flock`` on it for its whole life, taken
under the directory lock before anyone can claim it; the kernel drops that lock when the
writer dies, which is how recovery tells a live file from one left by a SIGKILLed run.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from nianbao.archive import records
from nianbao.archive.fsio import directory_lock, fsync_dir, lock, write_all

OPEN_SUFFIX = ".open"
WARC_SUFFIX = ".warc.gz"


class WarcFile:
    """One WARC file being written; ``name`` is its final (closed) name."""

    def __init__(self, directory: Path, name: str, fd: int):
        self.directory = directory
        self.name = name
        self._fd = fd
        self.size = os.fstat(fd).st_size
        self.synced = self.size  # bytes known to be on disk (fsynced)

    @classmethod
    def create(cls, directory: Path, seq: int, info: dict[str, str]) -> tuple[WarcFile, int]:
        """A new file named ``nianbao-<UTC timestamp>-<pid>-<seq>``, starting with a
        ``warcinfo`` record; returns it and the sequence number used (bumped past any name
        already taken, e.g. by another archive object of this process in the same second)."""
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        with directory_lock(directory):
            while True:
                name = f"nianbao-{stamp}-{os.getpid()}-{seq:05d}{WARC_SUFFIX}"
                if not (directory / name).exists():
                    try:
                        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
                        fd = os.open(directory / (name + OPEN_SUFFIX), flags, 0o644)
                        break
                    except FileExistsError:
                        pass
                seq += 1
            lock(fd)
        warc = cls(directory, name, fd)
        blob, _ = records.serialize([records.warcinfo(name, info)])
        warc.append(blob)
        fsync_dir(directory)
        return warc, seq

    def append(self, blob: bytes, sync: bool = True) -> int:
        """Write ``blob`` at the end and fsync; return the offset it starts at.

        ``sync=False`` leaves the fsync to :meth:`sync`, the next synced append or the close:
        for records no stored row points to yet (``WarcArchive.make_durable`` runs before one
        does), which a power cut may take back without harm.
        If the write or fsync fails (disk full…), the file is cut back to where it was, so
        the caller may go on and later offsets stay right.
        """
        offset = self.size
        try:
            write_all(self._fd, blob)
            if sync:
                os.fsync(self._fd)
        except OSError:
            os.ftruncate(self._fd, offset)
            os.lseek(self._fd, offset, os.SEEK_SET)
            raise
        self.size += len(blob)
        if sync:
            self.synced = self.size
        return offset

    def sync_handle(self) -> tuple[int, int] | None:
        """For an fsync outside the archive's lock: a duplicate of the file's descriptor (the
        caller closes it) and the size it will make durable; None when all is on disk."""
        if self.synced >= self.size:
            return None
        return os.dup(self._fd), self.size

    def close(self) -> None:
        """Rename to the final name (still holding the lock), then release the file."""
        if self.synced < self.size:
            os.fsync(self._fd)
        os.rename(self.directory / (self.name + OPEN_SUFFIX), self.directory / self.name)
        fsync_dir(self.directory)
        os.close(self._fd)
