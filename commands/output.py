"""A command's streamed output: lines made as UTF-8 bytes (listings read through the bare
driver, stored verdicts) written to standard output as they come.

Where stdout writes UTF-8 with no newline translation the bytes go to its binary buffer as
they are — a national listing's 40 MB are never decoded into ``str`` and encoded back; any
other stream (another encoding, a text-only stream such as a test's ``StringIO``) gets them
decoded, as text, and keeps them as it keeps text.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Iterable
from itertools import islice
from typing import Any

# Lines joined into one write: a write a line cost a 100,000-line listing a tenth of a second.
LINES_A_WRITE = 2000


def _utf8_buffer(out: Any) -> Any:
    """The binary stream under the text stream ``out`` when bytes written to it read as ``out``
    would write their UTF-8 text (no other encoding, no newline translation), else None."""
    raw = getattr(out, "buffer", None)
    encoding = getattr(out, "encoding", None)
    if raw is None or encoding is None or os.linesep != "\n":
        return None
    return raw if codecs.lookup(encoding).name == "utf-8" else None


def write_lines(chunks: Iterable[bytes]) -> None:
    """UTF-8 bytes to standard output as they come, ``LINES_A_WRITE`` lines to a write (see
    the module docstring)."""
    out = sys.stdout
    raw = _utf8_buffer(out)
    if raw is not None:
        out.flush()  # what was written as text goes first
    write = raw.write if raw is not None else (lambda chunk: out.write(chunk.decode()))
    lines = iter(chunks)
    while chunk := b"".join(islice(lines, LINES_A_WRITE)):
        write(chunk)
    (raw if raw is not None else out).flush()
