"""Recognise the anti-bot challenges Chinese government portals put in front of their pages.

瑞数 answers HTTP 412 with obfuscated JS that sets cookies; 加速乐 answers 521 (or sends an
``X-Via-JSL`` header); 360网站卫士 redirects to ``/WZWSREL…`` and sets ``wzws_cid``; Tencent
EdgeOne serves a script page (marked ``WTKkN``) that sets ``__tst_status`` and
``EO_Bot_Ssid``; an unidentified WAF in front of 广元 portals answers HTTP 468. A plain HTTP
client never gets past them, a real browser often does. A challenge is logged as a challenge
(not as "site down") and its page is never stored or parsed as content.
"""

from __future__ import annotations

import re

_JS_COOKIE = re.compile(rb"document\.cookie\s*=|location\.(reload|replace|href)", re.IGNORECASE)
_EDGEONE = re.compile(rb"WTKkN|__tst_status|EO_Bot_Ssid")
SOFT_404 = re.compile("页面不存在|您访问的页面不存在|页面未找到|找不到该页面|404 Not Found|"
                      "页面已删除|信息不存在|文章不存在")

# What each challenge is called in a failure's detail.
NAMES = {
    "ruishu": "瑞数 (HTTP 412)",
    "jiasule": "加速乐 (HTTP 521)",
    "wzws": "360 wzws",
    "edgeone": "Tencent EdgeOne",
    "http468": "HTTP 468",
    "js-cookie": "JavaScript cookie",
}


def challenge_kind(status: int, headers: dict[str, str], url: str, body: bytes) -> str | None:
    """Name of the challenge this response is (a key of ``NAMES``), or None. ``headers`` are
    lower-cased names."""
    if status == 468:
        return "http468"
    if status == 412 and (b"<script" in body or _JS_COOKIE.search(body[:200_000])):
        return "ruishu"
    if status == 521 or "x-via-jsl" in headers:
        return "jiasule"
    if "WZWSREL" in url or "wzwschallenge" in url or "wzws_cid" in headers.get("set-cookie", ""):
        return "wzws"
    if len(body) < 20_000 and _EDGEONE.search(body) and b"<a " not in body:
        return "edgeone"
    if status == 200 and len(body) < 6000 and _JS_COOKIE.search(body) and b"<a " not in body:
        return "js-cookie"
    return None


def is_soft_404(status: int, text: str) -> bool:
    """An HTTP 200 page that says the page does not exist (and is too short to be a report)."""
    return status == 200 and len(text) < 4000 and bool(SOFT_404.search(text))
