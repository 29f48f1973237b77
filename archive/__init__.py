"""WARC archive of every fetched response, replayable in pywb / ReplayWeb.page.

Journalists cite these copies, so the archive favours verifiability over cleverness:
standard gzip-per-record WARC 1.1 files written with warcio, a pywb-format CDXJ index,
byte-exact read-back checked against the recorded digests, and recovery of files cut short
by a killed crawler. See :class:`nianbao.archive.warc.WarcArchive`.
"""

from nianbao.archive.pointer import WarcPointer
from nianbao.archive.reader import ArchiveIntegrityError, read_payload, read_record_headers
from nianbao.archive.warc import WarcArchive

__all__ = [
    "ArchiveIntegrityError",
    "WarcArchive",
    "WarcPointer",
    "read_payload",
    "read_record_headers",
]
