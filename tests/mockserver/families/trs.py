"""TRS WCM (拓尔思): static ``index.html``, ``index_1.html``… lists whose pagination is drawn by
``createPageHTML(count, current, "index", "html")``; relative links to dated detail pages.

The page count exists only as the call's first argument: a crawler without JavaScript must
read it from the script, as real TRS crawlers do.
"""

from __future__ import annotations

from tests.mockserver.chrome import column_page, esc
from tests.mockserver.families.base import Family, chunks
from tests.mockserver.portals import Item, Portal

CREATE_PAGE_HTML = """<script type="text/javascript">
function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt) {
  if (_nPageCount == null || _nPageCount <= 1) { return; }
  var first = _sPageName + "." + _sPageExt;
  var page = function (n) { return n == 0 ? first : _sPageName + "_" + n + "." + _sPageExt; };
  if (_nCurrIndex == 0) { document.write("首页&nbsp;上一页&nbsp;"); }
  else {
    document.write("<a href=\\"" + first + "\\">首页</a>&nbsp;");
    document.write("<a href=\\"" + page(_nCurrIndex - 1) + "\\">上一页</a>&nbsp;");
  }
  if (_nCurrIndex == _nPageCount - 1) { document.write("下一页&nbsp;尾页"); }
  else {
    document.write("<a href=\\"" + page(_nCurrIndex + 1) + "\\">下一页</a>&nbsp;");
    document.write("<a href=\\"" + page(_nPageCount - 1) + "\\">尾页</a>");
  }
  document.write("&nbsp;共" + _nPageCount + "页");
}
</script>
"""
SHORT_TITLE = 26


class Trs(Family):
    def detail_path(self, portal: Portal, item: Item) -> str:
        pub = item.published
        return f"{portal.column}{pub:%Y%m}/t{pub:%Y%m%d}_{item.number}.shtml"

    def attachment_path(self, portal: Portal, item: Item, ext: str) -> str:
        pub = item.published
        return f"{portal.column}{pub:%Y%m}/P0{pub:%Y%m%d}{item.number}.{ext}"

    def attachment_href(self, portal: Portal, item: Item, ext: str) -> str:
        return "./" + self.attachment_path(portal, item, ext).rsplit("/", 1)[1]

    def href(self, portal: Portal, item: Item) -> str:
        """Relative to the column directory: ``./YYYYMM/tYYYYMMDD_<id>.shtml``."""
        return item.href or "./" + self.detail_path(portal, item).removeprefix(portal.column)

    @staticmethod
    def page_path(portal: Portal, index: int) -> str:
        return portal.column + ("index.html" if index == 0 else f"index_{index}.html")

    def list_pages(self, portal: Portal) -> dict[str, str]:
        pages = chunks(portal.items, portal.per_page)
        out: dict[str, str] = {}
        for index, items in enumerate(pages):
            entries = "\n".join(
                f'<li><a href="{esc(self.href(portal, i))}" title="{esc(i.title)}" '
                f'target="_blank">{esc(shorten(i.title))}</a><span>{i.published:%Y-%m-%d}</span></li>'
                for i in items
            )
            listing = f"""<ul class="list">
{entries}
</ul>
<div class="page">
<script type="text/javascript">createPageHTML({len(pages)}, {index}, "index", "html");</script>
</div>"""
            out[self.page_path(portal, index)] = column_page(portal, listing, head=CREATE_PAGE_HTML)
        out[portal.column] = out[self.page_path(portal, 0)]
        return out

    def list_urls(self, portal: Portal) -> list[str]:
        count = len(chunks(portal.items, portal.per_page))
        return [self.page_path(portal, i) for i in range(count)]


def shorten(title: str) -> str:
    """TRS list templates cut long titles; the full one is in the ``title`` attribute."""
    return title if len(title) <= SHORT_TITLE else title[: SHORT_TITLE - 1] + "…"
