"""List markup, pagination and URL patterns of the CMS families real portals run on.

A family decides where an entry's detail page and attachments live, which static list pages
the column has, and which dynamic endpoints (JSON APIs, Hanweb's dataproxy.jsp) feed it.
"""

from __future__ import annotations

from replicas.families.base import Family
from replicas.families.gkmlpt import Gkmlpt
from replicas.families.hanweb import Hanweb
from replicas.families.js_list import JsList
from replicas.families.page_param import PageParam
from replicas.families.trs import Trs

FAMILIES: dict[str, Family] = {
    "trs": Trs(),
    "page-param": PageParam(),
    "js-list": JsList(),
    "hanweb": Hanweb(),
    "gkmlpt": Gkmlpt(),
}

__all__ = ["FAMILIES", "Family"]
