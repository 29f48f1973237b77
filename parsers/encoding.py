"""Decode a page's bytes without mojibake.

Portals serve UTF-8 and GBK/GB2312/GB18030, often without a declaration or with a wrong one.
Declared encodings are tried first, but a decode is only trusted when it is strict and yields
Chinese text; otherwise GB18030 (a superset of GBK and GB2312) is tried, since a short GBK page
can be valid UTF-8 by accident while meaning nothing.
"""

from __future__ import annotations

import re

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding

_CJK = re.compile(r"[\u4e00-\u9fff]")
_NON_ASCII = re.compile(r"[^\x00-\x7f\s\u3000\u00a0]")


def _cjk_share(text: str) -> float:
    """Share of Chinese characters among the non-ASCII ones (mojibake has few)."""
    letters = len(_NON_ASCII.findall(text))
    return len(_CJK.findall(text)) / letters if letters else 0.0


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_page(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    declared = [
        e for e in (
            http_content_type_encoding(content_type) if content_type else None,
            html_body_declared_encoding(data[:4096]),
        ) if e
    ]
    candidates = []
    for enc in [*declared, "utf-8", "gb18030"]:
        enc = "gb18030" if enc.lower() in {"gbk", "gb2312", "gb_2312-80", "x-gbk"} else enc
        if enc not in candidates:
            candidates.append(enc)
    decoded = [(enc, text) for enc in candidates if (text := _strict(data, enc)) is not None]
    for enc, text in decoded:
        if _cjk_share(text) >= 0.5:
            return text, enc
    if decoded:
        return decoded[0][1], decoded[0][0]
    return data.decode("gb18030", errors="replace"), "gb18030 (with replacements)"
