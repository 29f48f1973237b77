"""Recognise the anti-bot challenges Chinese government portals put in front of their pages.

瑞数 answers HTTP 412 with obfuscated JS that sets cookies; 加速乐 answers 521 with an
``X-Via-JSL`` header; 360网站卫士 redirects to ``/WZWSREL…`` and sets ``wzws_cid``. A plain HTTP
client never gets past them, a real browser does. A challenge is logged as a challenge (not as
"site down") and its page is never stored as a report.
"""

from __future__ import annotations

import re

_JS_COOKIE = re.compile(rb"document\.cookie\s*=|location\.(reload|replace|href)", re.IGNORECASE)
SOFT_404 = re.compile("页面不存在|您访问的页面不存在|页面未找到|找不到该页面|404 Not Found|"
                      "页面已删除|信息不存在|文章不存在")


def challenge_kind(status: int, headers: dict[str, str], url: str, body: bytes) -> str | None:
    """Name of the challenge this response is (``ruishu``, ``jiasule``, ``wzws``,
    ``js-cookie``), or None. ``headers`` are lower-cased names."""
    if status == 412 and (b"<script" in body or _JS_COOKIE.search(body[:200_000])):
        return "ruishu"
    if status == 521 or "x-via-jsl" in headers:
        return "jiasule"
    if "WZWSREL" in url or "wzwschallenge" in url or "wzws_cid" in headers.get("set-cookie", ""):
        return "wzws"
    if status == 200 and len(body) < 6000 and _JS_COOKIE.search(body) and b"<a " not in body:
        return "js-cookie"
    return None


def is_soft_404(status: int, text: str) -> bool:
    """An HTTP 200 page that says the page does not exist (and is too short to be a report)."""
    return status == 200 and len(text) < 4000 and bool(SOFT_404.search(text))
