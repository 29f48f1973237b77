"""Hanweb 大汉 JCMS: ``/col/col<id>/index.html`` pages carry only the jpage configuration; the
entries come from ``POST /module/web/jpage/dataproxy.jsp?startrecord=&endrecord=&perpage=``
(form fields col, appid, webid, path, columnid, unitid, webname, permissiontype) as XML with
one CDATA ``<li>`` per ``<record>``. Details are ``/art/YYYY/M/D/art_<col>_<id>.html``."""

from __future__ import annotations

from tests.mockserver.chrome import column_page, esc
from tests.mockserver.families.base import Family
from tests.mockserver.http import Request, Response
from tests.mockserver.portals import Item, Portal

PROXY = "/module/web/jpage/dataproxy.jsp"
JPAGE_JS_PATH = "/module/web/jpage/jpage.js"
GROUP = 3  # list pages fetched per dataproxy request (endrecord = perpage * GROUP)

# Draws a dataproxy answer into the target element and pages through it on the client.
JPAGE_JS = """/* jpage: column list loader */
var jpage = {
  load: function (cfg) {
    var end = cfg.perPage * cfg.groupSize, body = [], k;
    for (k in cfg.params) { body.push(k + "=" + encodeURIComponent(cfg.params[k])); }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", cfg.proxyUrl + "?startrecord=1&endrecord=" + end + "&perpage=" + cfg.perPage);
    xhr.setRequestHeader("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8");
    xhr.onload = function () {
      var text = xhr.responseText, re = /<record><!\\[CDATA\\[([\\s\\S]*?)\\]\\]><\\/record>/g, m;
      var records = [];
      while ((m = re.exec(text))) { records.push(m[1]); }
      var total = (/<totalrecord>(\\d+)<\\/totalrecord>/.exec(text) || [0, 0])[1];
      jpage.show(cfg, records, total, 0);
    };
    xhr.send(body.join("&"));
  },
  show: function (cfg, records, total, page) {
    var el = document.getElementById(cfg.target), pages = Math.ceil(records.length / cfg.perPage);
    var shown = records.slice(page * cfg.perPage, (page + 1) * cfg.perPage);
    var html = '<ul class="list">' + shown.join("") + "</ul>";
    html += '<div class="pages">共' + total + "条记录 第" + (page + 1) + "/" +
      Math.max(pages, 1) + "页</div>";
    el.innerHTML = html;
  }
};
"""


class Hanweb(Family):
    def detail_path(self, portal: Portal, item: Item) -> str:
        pub = item.published
        return f"/art/{pub.year}/{pub.month}/{pub.day}/art_{portal.column_id}_{item.number}.html"

    def params(self, portal: Portal) -> dict[str, str | int]:
        return {
            "col": 1,
            "appid": 1,
            "webid": portal.options["webid"],
            "path": "/",
            "columnid": portal.column_id,
            "sourceContentType": 1,
            "unitid": portal.options["unitid"],
            "webname": portal.name,
            "permissiontype": 0,
        }

    def list_pages(self, portal: Portal) -> dict[str, str]:
        unit = portal.options["unitid"]
        params = ", ".join(
            f"{k}: {v}" if isinstance(v, int) else f"{k}: '{esc(v)}'"
            for k, v in self.params(portal).items()
        )
        listing = f"""<div id="{unit}"></div>
<script language="javascript" src="{JPAGE_JS_PATH}"></script>
<script language="javascript">
jpage.load({{proxyUrl: '{PROXY}', target: '{unit}', perPage: {portal.per_page}, groupSize: {GROUP},
  params: {{{params}}}}});
</script>"""
        return {portal.column: column_page(portal, listing)}

    def assets(self, portal: Portal) -> dict[str, tuple[bytes, str]]:
        return {JPAGE_JS_PATH: (JPAGE_JS.encode(), "application/javascript; charset=utf-8")}

    def endpoint(self, portal: Portal, request: Request) -> Response | None:
        if request.path != PROXY:
            return None
        form = request.form
        mine = form.get("columnid") == str(portal.column_id)
        items = portal.items if mine else ()
        start = int(form["startrecord"]) if form.get("startrecord", "").isdigit() else 1
        end = int(form["endrecord"]) if form.get("endrecord", "").isdigit() else start + 44
        records = "".join(
            f'<record><![CDATA[<li><a href="{esc(self.href(portal, i))}" target="_blank" '
            f'title="{esc(i.title)}">{esc(i.title)}</a><span>{i.published:%Y-%m-%d}</span></li>]]>'
            "</record>\n"
            for i in items[max(start, 1) - 1 : end]
        )
        xml = (
            f"<?xml version='1.0' encoding='UTF-8'?><datastore>\n"
            f"<nextgroup><![CDATA[<a href=\"{PROXY}?startrecord={end + 1}\"></a>]]></nextgroup>\n"
            f"<totalrecord>{len(items)}</totalrecord>\n<totalpage>"
            f"{-(-len(items) // portal.per_page)}</totalpage>\n<recordset>\n{records}</recordset>\n"
            "</datastore>"
        )
        return Response(200, xml.encode(), "text/xml; charset=UTF-8")

    def list_urls(self, portal: Portal) -> list[str]:
        end = portal.per_page * GROUP
        return [portal.column, f"{PROXY}?startrecord=1&endrecord={end}&perpage={portal.per_page}"]
