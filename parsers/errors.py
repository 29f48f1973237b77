"""Errors a user may see: each carries a one-line reason and never a traceback."""

from __future__ import annotations


class ParseError(Exception):
    """A document could not be read. ``reason`` is a short machine tag, the message is for people.

    Reasons: ``missing`` (no such file), ``unreadable`` (corrupt, truncated, wrong type),
    ``too-large``, ``converter-missing`` (LibreOffice or OCR engine absent), ``timeout``,
    ``memory``, ``fetch`` (URL could not be fetched), ``worker`` (no parse worker could be
    started, or the pool was closed while the document waited).
    """

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"
