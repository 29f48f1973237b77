"""The CMS families of 年报 lists, one module each, chosen by the site entry or detected.

A column's family is its ``pagination`` in ``config/sites.yaml``, else the site's ``cms``, else
detected on the column page: Hanweb's jpage parameters, gkmlpt's ``window._CONFIG``, TRS's
``createPageHTML``, ``?page=N`` links, in that order. A page that shows no report link and no
pagination without JavaScript is rendered in Chromium (``js-list``) unless the site says
``render: never``. Once chosen, the family reads every further page of that list.
"""

from __future__ import annotations

from scrapy.http import Response, TextResponse

from nianbao.crawler.families.base import Family, ListError, ListPage, Reading, Single
from nianbao.crawler.families.gkmlpt import Gkmlpt
from nianbao.crawler.families.hanweb import Hanweb
from nianbao.crawler.families.js_list import JsList
from nianbao.crawler.families.page_param import PageParam
from nianbao.crawler.families.trs import Trs

FAMILIES: dict[str, Family] = {f.name: f for f in (Trs(), PageParam(), Hanweb(), Gkmlpt(),
                                                    JsList(), Single())}
DETECTION_ORDER = ("hanweb", "gkmlpt", "trs", "page-param")
JS_LIST = FAMILIES["js-list"]


def detect(response: Response, column: str) -> Family:
    """The family whose list this column page is (``none`` when no family recognises it)."""
    if isinstance(response, TextResponse):
        for name in DETECTION_ORDER:
            if FAMILIES[name].detect(response, column):
                return FAMILIES[name]
    return FAMILIES["none"]


__all__ = ["DETECTION_ORDER", "FAMILIES", "JS_LIST", "Family", "ListError", "ListPage",
           "Reading", "detect"]
