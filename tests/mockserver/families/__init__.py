"""List markup, pagination and URL patterns of the CMS families real portals run on.

A family decides where an entry's detail page and attachments live, which static list pages
the column has, and which dynamic endpoints (JSON APIs, Hanweb's dataproxy.jsp) feed it.
"""

from __future__ import annotations

from tests.mockserver.families.base import Family
from tests.mockserver.families.gkmlpt import Gkmlpt
from tests.mockserver.families.hanweb import Hanweb
from tests.mockserver.families.js_list import JsList
from tests.mockserver.families.page_param import PageParam
from tests.mockserver.families.trs import Trs

FAMILIES: dict[str, Family] = {
    "trs": Trs(),
    "page-param": PageParam(),
    "js-list": JsList(),
    "hanweb": Hanweb(),
    "gkmlpt": Gkmlpt(),
}

__all__ = ["FAMILIES", "Family"]
