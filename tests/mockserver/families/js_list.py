"""Column pages drawn by JavaScript: the HTML has no entry links at all; an inline script reads
``?page=N`` from the address, fetches ``/api/column/<id>?page=N`` (JSON ``{total, pages,
items:[{title, url, date}]}``) and writes the links and the pager. Only a browser, or a
crawler that knows the API, sees the entries."""

from __future__ import annotations

import json

from tests.mockserver.chrome import column_page
from tests.mockserver.families.base import Family, chunks
from tests.mockserver.http import Request, Response
from tests.mockserver.portals import Portal

SCRIPT = """<script type="text/javascript">
(function () {
  var m = /[?&]page=(\\d+)/.exec(location.search);
  var page = m ? parseInt(m[1], 10) : 1;
  fetch("/api/column/%(column_id)d?page=" + page, {headers: {"X-Requested-With": "XMLHttpRequest"}})
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var ul = document.getElementById("list"), html = "";
      data.items.forEach(function (it) {
        html += '<li><a href="' + it.url + '" target="_blank">' + it.title + '</a><span>' +
          it.date + '</span></li>';
      });
      ul.innerHTML = html || "<li>暂无信息</li>";
      var pager = "共" + data.total + "条 第" + page + "/" + data.pages + "页 ";
      if (page > 1) { pager += '<a href="?page=' + (page - 1) + '">上一页</a> '; }
      if (page < data.pages) { pager += '<a href="?page=' + (page + 1) + '">下一页</a>'; }
      document.getElementById("pager").innerHTML = pager;
    });
})();
</script>"""


class JsList(Family):
    def api_path(self, portal: Portal) -> str:
        return f"/api/column/{portal.column_id}"

    def list_pages(self, portal: Portal) -> dict[str, str]:
        listing = (
            '<ul class="list" id="list"><li class="loading">正在加载……</li></ul>\n'
            '<div class="pages" id="pager"></div>\n'
            + SCRIPT % {"column_id": portal.column_id}
        )
        return {portal.column: column_page(portal, listing)}

    def endpoint(self, portal: Portal, request: Request) -> Response | None:
        if request.path != self.api_path(portal):
            return None
        pages = chunks(portal.items, portal.per_page)
        value = request.query.get("page", "1")
        number = int(value) if value.isdigit() else 1
        items = pages[number - 1] if 1 <= number <= len(pages) else ()
        data = {
            "total": len(portal.items),
            "pages": len(pages),
            "items": [
                {"title": i.title, "url": self.href(portal, i), "date": f"{i.published:%Y-%m-%d}"}
                for i in items
            ],
        }
        body = json.dumps(data, ensure_ascii=False).encode()
        return Response(200, body, "application/json; charset=utf-8")

    def list_urls(self, portal: Portal) -> list[str]:
        count = len(chunks(portal.items, portal.per_page))
        return [portal.column] + [f"{self.api_path(portal)}?page={n}" for n in range(1, count + 1)]
