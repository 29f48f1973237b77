"""What a crawled page may contain, made safe for each medium nianbao writes to — one home.

Everything nianbao reports (issuers, titles, URLs, failure details) comes from pages anyone can
write. Each medium has its own dangerous characters:

- a terminal: control characters (escape sequences clear the screen, set the window title or
  rewrite earlier lines), and bidirectional overrides that reorder what is shown;
- a spreadsheet opening a CSV: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or CR is
  a formula (OWASP "CSV injection"); it is prefixed with ``'``;
- XML (Atom feeds): characters XML 1.0 forbids make the whole document unwritable;
- HTML (e-mail bodies): markup;
- a plain-text message (chat, e-mail): control bytes, which mean nothing there;
- a header line (an e-mail Subject): line breaks and other control bytes.
"""

from __future__ import annotations

import html as _html
import re
from collections.abc import Iterable

# C0 controls but tab and newline, DEL, C1 controls, and the bidi embeddings/overrides/isolates.
_TERMINAL_LINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_TERMINAL_CELL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What XML 1.0 forbids, spelt as the small set it is (the complement of Char): the same class
# written as a negation of Char's ranges costs every command ~3 ms to compile at start-up.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HEADER = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text: object, multiline: bool = False) -> str:
    """``text`` with every control character shown as ``\\xNN`` (newlines kept when
    ``multiline``), so nothing a page wrote acts on the terminal."""
    pattern = _TERMINAL_LINE if multiline else _TERMINAL_CELL
    return pattern.sub(_visible, str(text))


def csv_cell(value: object) -> object:
    """A cell a spreadsheet shows as text: a string that would start a formula gets ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_row(values: Iterable[object]) -> list[object]:
    return [csv_cell(v) for v in values]


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (lxml refuses them)."""
    return _XML_INVALID.sub("", text)


def html_text(text: object) -> str:
    """``text`` as HTML character data or an attribute value."""
    return _html.escape(str(text), quote=True)


def message_text(text: str) -> str:
    """``text`` for a plain-text message (chat, e-mail body): control characters but tab and
    newline, and bidi overrides, are dropped."""
    return _TERMINAL_LINE.sub("", text)


def header_line(text: str) -> str:
    """``text`` as one header line: line breaks and control bytes become a space."""
    return _HEADER.sub(" ", text).strip()
