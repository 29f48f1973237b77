"""Where one archived response lives, in a form a database row or a citation can keep."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WarcPointer:
    """One response or revisit record: enough to seek to it, verify it and cite it.

    ``file`` is relative to the archive directory and never carries the ``.open`` suffix, so
    a pointer taken while its file was being written stays valid after close or recovery.
    ``offset``/``length`` delimit the record's gzip member (what pywb's CDXJ calls
    offset/length). ``payload_digest`` is warcio's ``sha1:<base32>`` (the WARC and CDXJ
    form); ``sha256`` is the hex SHA-256 of the body, for citations that want a modern hash.
    For a revisit, ``refers_to`` is the (file, offset) of the response holding the bytes.
    """

    file: str
    offset: int
    length: int
    record_id: str
    payload_digest: str
    sha256: str
    revisit: bool = False
    refers_to: tuple[str, int] | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``refers_to`` as ``{"file", "offset"}`` or ``None``)."""
        return {
            "file": self.file,
            "offset": self.offset,
            "length": self.length,
            "record_id": self.record_id,
            "payload_digest": self.payload_digest,
            "sha256": self.sha256,
            "revisit": self.revisit,
            "refers_to": (
                {"file": self.refers_to[0], "offset": self.refers_to[1]} if self.refers_to else None
            ),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WarcPointer:
        """Inverse of :meth:`as_dict`."""
        refers = data.get("refers_to")
        return cls(
            file=data["file"],
            offset=int(data["offset"]),
            length=int(data["length"]),
            record_id=data["record_id"],
            payload_digest=data["payload_digest"],
            sha256=data["sha256"],
            revisit=bool(data.get("revisit", False)),
            refers_to=(refers["file"], int(refers["offset"])) if refers else None,
        )
