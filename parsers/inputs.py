"""Read an input file for parsing, within the size limit.

Apart from the pipeline: ``nianbao parse`` reads its files in the parent process and leaves
the parse to the worker pool, so the parent never needs the readers, tables and vocabulary
the pipeline imports.
"""

from __future__ import annotations

from pathlib import Path

from nianbao.parsers.errors import ParseError


def read_file(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ParseError("missing", f"no such file: {path}") from None
    except OSError as exc:
        raise ParseError("unreadable", f"cannot read {path}: {exc.strerror}") from None
    if path.is_dir():
        raise ParseError("unreadable", f"{path} is a directory")
    if size > max_bytes:
        raise ParseError(
            "too-large", f"{size / 2**20:.1f} MiB is over the {max_bytes / 2**20:.0f} MiB limit"
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ParseError("unreadable", f"cannot read {path}: {exc.strerror}") from None
