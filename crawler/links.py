"""What a link on a portal is: an attachment, a page of a list, a trap — and its text and date.

Whether its title names a 年报, a look-alike or the 年报 column is the report vocabulary's
(``nianbao.vocabulary.titles``); titles tell most look-alikes apart before anything is
downloaded, and the parser's verdict on the content catches the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from parsel import Selector

ATTACHMENT_EXT = re.compile(r"\.(pdf|docx?|wps|rtf|odt|jpe?g|png|tiff?)$", re.IGNORECASE)
SESSION_PARAMS = {"jsessionid", "sessionid", "sid", "phpsessid", "aspsessionid", "token", "_"}
CALENDAR_PARAM = re.compile(r"^(date|day|month|year|riqi|d|ym)$", re.IGNORECASE)
TRS_PAGER = re.compile(r"createPageHTML\(\s*['\"]?(\d+)['\"]?\s*,\s*['\"]?(\d+)['\"]?\s*,\s*"
                       r"['\"]([\w-]+)['\"]\s*,\s*['\"](\w+)['\"]")
TRS_COUNT = re.compile(r"var\s+countPage\s*=\s*['\"]?(\d+)")
NEXT_TEXT = re.compile(r"^\s*(下一页|下页|>|»|后一页)\s*$")


@dataclass(frozen=True)
class Link:
    url: str
    text: str
    date: str | None = None

    @property
    def entry(self) -> str:
        """What the list says about this link; unchanged entry + validators = no refetch."""
        return f"{self.text}|{self.date or ''}"


def normalize_url(url: str) -> str:
    """Drop fragments, session ids and ``;jsessionid=`` path parameters (trap and dupes)."""
    parts = urlsplit(url)
    path = re.sub(r";jsessionid=[^/?#]*", "", parts.path, flags=re.IGNORECASE)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in SESSION_PARAMS]
    return urlunsplit((parts.scheme, parts.netloc.lower(), path or "/", urlencode(query), ""))


def is_attachment(url: str) -> bool:
    return bool(ATTACHMENT_EXT.search(urlsplit(url).path))


_DATE = re.compile(r"(20\d\d)[-/.年](\d{1,2})[-/.月](\d{1,2})")


def _near_date(anchor: Selector) -> str | None:
    for text in anchor.xpath("./following-sibling::*[1]//text() | ./parent::*//text()").getall():
        m = _DATE.search(text)
        if m:
            return f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}"
    return None


def page_links(sel: Selector, base: str, css: str | None = None,
               keep: Callable[[str], bool] | None = None) -> list[Link]:
    """Every ``<a href>`` on the page (or inside ``css``), absolute and normalised, in order;
    with ``keep``, only the links whose URL it accepts (their text and date, the costly part,
    are read for those alone: a detail page wants only its attachments)."""
    root = sel.css(css) if css else sel
    out: list[Link] = []
    seen: set[str] = set()
    for a in root.xpath(".//a[@href]"):
        href = (a.attrib.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#", "tel:")):
            continue
        url = normalize_url(urljoin(base, href))
        if url in seen or (keep is not None and not keep(url)):
            continue
        seen.add(url)
        text = re.sub(r"\s+", " ", a.attrib.get("title") or " ".join(a.xpath(".//text()").getall()))
        out.append(Link(url, text.strip(), _near_date(a)))
    return out


def trs_pages(html: str, base: str) -> list[str]:
    """TRS WCM static pagination: ``createPageHTML(count, current, "index", "html")``."""
    m = TRS_PAGER.search(html)
    if m:
        count, current, stem, ext = int(m[1]), int(m[2]), m[3], m[4]
    else:
        c = TRS_COUNT.search(html)
        if not c:
            return []
        count, current, stem, ext = int(c[1]), 0, "index", "html"
    if current != 0:
        return []
    folder = base if base.endswith("/") else base.rsplit("/", 1)[0] + "/"
    return [urljoin(folder, f"{stem}_{i}.{ext}") for i in range(1, count)]


def next_page_links(links: list[Link], base: str) -> list[str]:
    """``?page=N`` style lists: the 下一页 link, or numbered links on the same path."""
    path = urlsplit(base).path
    out = []
    for link in links:
        parts = urlsplit(link.url)
        if parts.path.rstrip("/") != path.rstrip("/") and not NEXT_TEXT.match(link.text):
            continue
        keys = {k.lower() for k, _ in parse_qsl(parts.query)}
        if NEXT_TEXT.match(link.text) or keys & {"page", "pageno", "cur_page", "pagenum", "p"}:
            out.append(link.url)
    return out


def is_calendar_like(url: str) -> bool:
    """Links whose only novelty is a date parameter: the endless-calendar trap."""
    return any(CALENDAR_PARAM.match(k) for k, _ in parse_qsl(urlsplit(url).query))


HANWEB_PARAMS = ("columnid", "unitid", "webid", "webname", "path", "permissiontype", "appid", "col")
_HANWEB_VAR = re.compile(
    r"""\b(columnid|unitid|webid|webname|path|permissiontype|appid|col)\s*[:=]\s*['"]?"""
    r"""([^'",;\s}]*)""",
    re.IGNORECASE,
)
_HANWEB_PERPAGE = re.compile(r"perpage\s*[:=]\s*['\"]?(\d+)", re.IGNORECASE)


def hanweb_params(html: str) -> dict[str, str] | None:
    """The jpage parameters a Hanweb column page passes to ``dataproxy.jsp``, if it is one."""
    if "dataproxy.jsp" not in html and "jpage" not in html:
        return None
    found = {m[1].lower(): m[2] for m in _HANWEB_VAR.finditer(html)}
    if "columnid" not in found:
        return None
    params = {k: found.get(k, "") for k in HANWEB_PARAMS}
    params["col"] = params["col"] or "1"
    params["appid"] = params["appid"] or "1"
    params["path"] = params["path"] or "/"
    params["permissiontype"] = params["permissiontype"] or "0"
    perpage = _HANWEB_PERPAGE.search(html)
    params["perpage"] = perpage[1] if perpage else "15"
    return params


_GKMLPT_SID = re.compile(r"""["']?\bSID["']?\s*:\s*["'](\w+)["']""")
_GKMLPT_CATEGORY = re.compile(
    r"""["']?(?:TREE["']?\s*:\s*\[\s*\{\s*["']?id|CAT(?:EGORY)?_?ID)["']?\s*:\s*["']?(\d+)""",
    re.IGNORECASE,
)


def gkmlpt_api(html: str, url: str) -> str | None:
    """The JSON list API of a Guangdong gkmlpt column page: the site from ``SID``, the
    category from the URL's ``#<catId>`` or else the page's first category."""
    sid = _GKMLPT_SID.search(html)
    if not sid:
        return None
    parts = urlsplit(url)
    category = parts.fragment
    if not category:
        found = _GKMLPT_CATEGORY.search(html)
        if not found:
            return None
        category = found[1]
    return f"{parts.scheme}://{parts.netloc}/gkmlpt/api/all/{category}?page=1&sid={sid[1]}"
