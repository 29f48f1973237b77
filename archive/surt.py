"""SURT url keys, so ``index.cdxj`` sorts and matches the way pywb looks captures up.

pywb computes the key of a requested URL with the ``surt`` package (IA canonicalisation, no
scheme, no trailing comma) and binary-searches the index for it: a key we compute differently
is a capture pywb cannot find. ``surt`` is not a dependency of this project (and is AGPL), so
this is an independent implementation of the same documented rules for http(s) URLs:

- host: lower-cased, IDNA-encoded, stray dots removed, a leading ``www``/``wwwN.`` label
  dropped, default port dropped, user-info dropped, labels reversed and comma-joined;
- path: percent-escapes decoded repeatedly then re-escaped once, dot segments resolved,
  empty segments collapsed, lower-cased, trailing slash removed (except for ``/`` itself);
- query: escapes normalised the same way, lower-cased, ``&``-separated arguments sorted,
  an empty query dropped; the fragment is always dropped.

Known difference: ``surt`` also strips session-id query arguments (``jsessionid=``,
``PHPSESSID=``…) and rewrites numeric IPv4 forms; we keep them, so such URLs get a key pywb
would not compute (pywb's own ``wb-manager reindex`` rebuilds keys from the WARCs anyway).
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import quote, unquote_to_bytes, urlsplit

# Everything printable in ASCII except '%' and '#' stays literal when re-escaping.
_SAFE = "!\"$&'()*+,-./:;<=>?@[\\]^_`{|}~"
_WWW = re.compile(r"www\d*\.")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CONTROL = re.compile(r"[\t\r\n]")


def surt(url: str) -> str:
    """The pywb/``surt`` key of an http(s) URL; any other URL is returned unchanged."""
    clean = _CONTROL.sub("", url.strip())
    parts = urlsplit(clean)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.netloc:
        return url
    host = _canonical_host(parts.hostname or "")
    try:
        port = parts.port
    except ValueError:
        port = None
    key = ",".join(reversed(host.split(".")))
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        key += f":{port}"
    key += ")" + _canonical_path(parts.path)
    query = _canonical_query(parts.query)
    if query:
        key += "?" + query
    return key


def _unescape_repeatedly(text: str) -> bytes:
    """Decode escapes as bytes: a GBK ``%D6%D0`` must survive, not become U+FFFD."""
    raw = text.encode("utf-8")
    while True:
        decoded = unquote_to_bytes(raw)
        if decoded == raw:
            return raw
        raw = decoded


def _escape_once(raw: bytes) -> str:
    return quote(raw, safe=_SAFE)


def _canonical_host(host: str) -> str:
    host = _unescape_repeatedly(host).decode("utf-8", "ignore")
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii")
    host = _escape_once(host.replace("..", ".").strip(".").lower().encode("utf-8"))
    match = _WWW.match(host)
    return host[match.end() :] if match else host


def _canonical_path(path: str) -> str:
    segments = _unescape_repeatedly(path).split(b"/")[1:]
    kept: list[bytes] = []
    for segment in segments:
        if segment == b".":
            continue
        if segment == b".." and kept:
            kept.pop()
        else:
            kept.append(segment)
    joined = b"/" + b"".join(s + b"/" for s in kept[:-1] if s) + (kept[-1] if kept else b"")
    normal = _escape_once(joined).lower()
    return normal[:-1] if len(normal) > 1 and normal.endswith("/") else normal


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    query = _escape_once(_unescape_repeatedly(query)).lower()
    if len(query) <= 1:
        return query
    pairs = sorted(tuple(arg.split("=", 1)) for arg in query.split("&"))
    return "&".join("=".join(pair) for pair in pairs)
