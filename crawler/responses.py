"""What nianbao reads off a Scrapy response besides its links: headers and visible text."""

from __future__ import annotations

from lxml import etree
from scrapy.http import Response, TextResponse

# Compiled, returning plain strings: parsel would wrap each of a Word page's thousands of text
# nodes in a Selector of its own.
_VISIBLE_TEXT = etree.XPath("//body//text()[not(ancestor::script)]", smart_strings=False)
# The same for a page read by the HTML parser, which keeps a script's content as its one text
# node (never elements): the parent test finds the same nodes at half the cost.
_VISIBLE_HTML_TEXT = etree.XPath("//body//text()[not(parent::script)]", smart_strings=False)


# RFC 9110 §5.5: a field value holding CR, LF or NUL is invalid, and a recipient replaces each
# with SP before processing it. A NUL reached the store otherwise, which PostgreSQL refuses in
# text (a portal's stray byte in its ETag failed its list page, and so the whole portal).
_INVALID_IN_FIELD_VALUE = str.maketrans("\r\n\x00", "   ")


def header(response: Response, name: str) -> str | None:
    """One header's (first) value as text (CR, LF and NUL as spaces), or None."""
    value = response.headers.get(name)
    return value.decode("latin-1").translate(_INVALID_IN_FIELD_VALUE) if value else None


def lower_headers(response: Response) -> dict[str, str]:
    """Header names lower-cased, repeated values joined: what ``challenge_kind`` reads."""
    return {
        k.decode("latin-1").lower(): b", ".join(v).decode("latin-1")
        for k, v in response.headers.items()
    }


def visible_text(response: TextResponse) -> str:
    """The page's text outside scripts (its first 8,000 characters): enough to tell a soft
    404 or a challenge from a page."""
    selector = response.selector
    texts = _VISIBLE_HTML_TEXT if selector.type == "html" else _VISIBLE_TEXT
    return " ".join(texts(selector.root))[:8000]
