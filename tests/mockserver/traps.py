"""Crawler traps: an endless calendar and session ids in links.

``/calendar?date=YYYY-MM-DD`` links to the previous and the next day without end, and
``;jsessionid=<random>`` links (as servlet containers rewrite URLs for clients without
cookies) are new on every page view, so neither URL space ever runs out. The server strips
the session id before routing, as a servlet container does.
"""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta

from tests.mockserver.chrome import page
from tests.mockserver.http import Request, Response, html
from tests.mockserver.portals import Portal

JSESSIONID_RE = re.compile(r";jsessionid=[^/?#]*", re.IGNORECASE)
CALENDAR = "/calendar"
INTERACT = "/hdjl/index.jsp"
CALENDAR_START = date(2024, 3, 25)


def strip_session(path: str) -> str:
    return JSESSIONID_RE.sub("", path)


def session_link(path: str) -> str:
    """``path`` with a fresh session id, as a URL-rewriting servlet container writes it."""
    return f"{path};jsessionid={secrets.token_hex(16).upper()}"


def calendar_link(day: date) -> str:
    return f"{CALENDAR}?date={day:%Y-%m-%d}"


def interact_link(portal: Portal) -> str:
    return session_link(INTERACT) if "jsessionid" in portal.traps else "/hdjl/"


def endpoint(portal: Portal, request: Request) -> Response | None:
    """The trap pages of ``portal``, or None when ``request`` is not for one."""
    if "calendar" in portal.traps and request.path == CALENDAR:
        return calendar_page(portal, request.query.get("date", ""))
    if "jsessionid" in portal.traps and request.path == INTERACT:
        main = (
            "<h2>互动交流</h2><p>领导信箱、在线咨询、征集调查。</p>"
            f'<p><a href="{session_link(INTERACT)}">刷新</a>　'
            f'<a href="{session_link(INTERACT)}">我要写信</a></p>'
        )
        return respond(portal, page(portal, title="互动交流", main=main,
                                    interact=session_link(INTERACT)))
    return None


def calendar_page(portal: Portal, value: str) -> Response:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return html("<p>日期格式错误</p>", status=400)
    main = (
        f"<h2>活动日历：{day.year}年{day.month}月{day.day}日</h2><p>当日暂无活动安排。</p>"
        f'<p><a href="{calendar_link(day - timedelta(days=1))}">前一天</a>　'
        f'<a href="{calendar_link(day + timedelta(days=1))}">后一天</a></p>'
    )
    text = page(portal, title="活动日历", main=main, interact=interact_link(portal))
    return respond(portal, text)


def respond(portal: Portal, text: str) -> Response:
    """A dynamic page: no validators (it differs on every view)."""
    return html(text, encoding=portal.encoding, declare=portal.declare_charset)
