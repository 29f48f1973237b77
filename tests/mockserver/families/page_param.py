"""JSP-style lists paged by a query parameter: ``column?page=N`` (1-based) with a 下一页 link,
flat ``t<id>.html`` details. The bare column is page 1 too, as on real sites."""

from __future__ import annotations

from tests.mockserver.chrome import column_page, esc
from tests.mockserver.families.base import Family, chunks, page_response
from tests.mockserver.http import Request, Response
from tests.mockserver.portals import Portal


class PageParam(Family):
    def page_html(self, portal: Portal, number: int) -> str:
        pages = chunks(portal.items, portal.per_page)
        items = pages[number - 1] if 1 <= number <= len(pages) else ()
        entries = "\n".join(
            f'<li><a href="{esc(self.href(portal, i))}" target="_blank">{esc(i.title)}</a>'
            f"<span>[{i.published:%Y-%m-%d}]</span></li>"
            for i in items
        ) or "<li>暂无信息</li>"
        nav = [f"共{len(portal.items)}条　第{number}/{len(pages)}页", '<a href="?page=1">首页</a>']
        if number > 1:
            nav.append(f'<a href="?page={number - 1}">上一页</a>')
        if number < len(pages):
            nav.append(f'<a href="?page={number + 1}">下一页</a>')
        nav.append(f'<a href="?page={len(pages)}">尾页</a>')
        listing = f'<ul class="list">\n{entries}\n</ul>\n<div class="pages">{"　".join(nav)}</div>'
        return column_page(portal, listing)

    def list_pages(self, portal: Portal) -> dict[str, str]:
        return {portal.column: self.page_html(portal, 1)}

    def endpoint(self, portal: Portal, request: Request) -> Response | None:
        """``column?page=N`` (static paths ignore the query, so paging is answered here)."""
        if request.path != portal.column or "page" not in request.query:
            return None
        value = request.query["page"]
        return page_response(portal, self.page_html(portal, int(value) if value.isdigit() else 1))

    def list_urls(self, portal: Portal) -> list[str]:
        count = len(chunks(portal.items, portal.per_page))
        return [f"{portal.column}?page={n}" for n in range(1, count + 1)]
