"""Guangdong 集约化 政府信息公开目录 (gkmlpt): ``/gkmlpt/index`` is a script application whose
``window._CONFIG`` names the site (``SID``) and the category tree; entries come from
``GET /gkmlpt/api/all/<catId>?page=N&sid=<sid>`` as JSON ``{total, articles:[{title, url,
created_at, …}]}`` (everything on page 1 here; page 2 and beyond are 404, as on some real sites).
Details ``/gkmlpt/content/<a>/<b>/post_<id>.html`` embed ``window._CONFIG.DETAIL``."""

from __future__ import annotations

import json
import re

from tests.mockserver.chrome import COLUMN_NAME, column_page, index_number
from tests.mockserver.families.base import Family, chunks
from tests.mockserver.http import Request, Response
from tests.mockserver.portals import Item, Portal

API_RE = re.compile(r"^/gkmlpt/api/all/(\d+)$")

APP = """<script type="text/javascript">
window._CONFIG = %(config)s;
(function () {
  var cat = location.hash.replace("#", "") || String(window._CONFIG.TREE[0].id);
  fetch("/gkmlpt/api/all/" + cat + "?page=1&sid=" + window._CONFIG.SID)
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var html = "";
      data.articles.forEach(function (a) {
        html += '<li><a href="' + a.url + '" target="_blank">' + a.title + "</a><span>" +
          a.created_at.substring(0, 10) + "</span></li>";
      });
      document.getElementById("gkml-list").innerHTML = html || "<li>暂无信息</li>";
    });
})();
</script>"""


class Gkmlpt(Family):
    def detail_path(self, portal: Portal, item: Item) -> str:
        n = item.number
        return f"/gkmlpt/content/{n // 10**6}/{n // 10**3}/post_{n}.html"

    def column_href(self, portal: Portal) -> str:
        return f"{portal.column}#{portal.column_id}"

    def api_path(self, portal: Portal) -> str:
        return f"/gkmlpt/api/all/{portal.column_id}"

    def list_pages(self, portal: Portal) -> dict[str, str]:
        config = {
            "SID": portal.options["sid"],
            "SITE_NAME": portal.name,
            "TREE": [{"id": portal.column_id, "name": COLUMN_NAME, "parent": 0}],
        }
        listing = (
            f'<ul class="tree"><li><a href="#{portal.column_id}">{COLUMN_NAME}</a></li></ul>\n'
            '<ul class="list" id="gkml-list"><li>正在加载……</li></ul>\n'
            + APP % {"config": json.dumps(config, ensure_ascii=False)}
        )
        return {portal.column: column_page(portal, listing)}

    def endpoint(self, portal: Portal, request: Request) -> Response | None:
        match = API_RE.match(request.path)
        if not match:
            return None
        pages = chunks(portal.items, portal.per_page)
        value = request.query.get("page", "1")
        number = int(value) if value.isdigit() else 1
        if not 1 <= number <= len(pages):
            return Response(404, b'{"error":"not found"}', "application/json; charset=utf-8")
        mine = (
            match.group(1) == str(portal.column_id)
            and request.query.get("sid") == portal.options["sid"]
        )
        articles = [
            {
                "id": i.number,
                "title": i.title,
                "url": i.href or portal.origin + self.detail_path(portal, i),
                "created_at": f"{i.published:%Y-%m-%d %H:%M:%S}",
                "identifier": index_number(portal, i),
                "publisher": portal.name,
            }
            for i in (pages[number - 1] if mine else ())
        ]
        data = {"total": len(portal.items) if mine else 0, "articles": articles}
        body = json.dumps(data, ensure_ascii=False).encode()
        return Response(200, body, "application/json; charset=utf-8")

    def list_urls(self, portal: Portal) -> list[str]:
        return [portal.column, f"{self.api_path(portal)}?page=1&sid={portal.options['sid']}"]

    def detail_head(self, portal: Portal, item: Item) -> str:
        detail = {
            "id": item.number,
            "title": item.title,
            "publisher": portal.name,
            "identifier": index_number(portal, item),
            "created_at": f"{item.published:%Y-%m-%d %H:%M:%S}",
            "url": portal.origin + self.detail_path(portal, item),
        }
        return (
            "<script>window._CONFIG = window._CONFIG || {}; window._CONFIG.DETAIL = "
            + json.dumps(detail, ensure_ascii=False)
            + ";</script>\n"
        )
