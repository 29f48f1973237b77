"""What every family provides, with the defaults most of them share."""

from __future__ import annotations

from datetime import datetime

from tests.mockserver import http
from tests.mockserver.http import Request, Response
from tests.mockserver.portals import Item, Portal


def chunks(items: tuple[Item, ...], size: int) -> list[tuple[Item, ...]]:
    """Items cut into list pages; an empty column still has one (empty) page."""
    return [items[i : i + size] for i in range(0, len(items), size)] or [()]


def newest(portal: Portal) -> datetime:
    """When the column last changed: its newest entry's date (a fixed date when empty)."""
    return max((i.published for i in portal.items), default=datetime(2024, 1, 2, 9, 0))


def page_response(portal: Portal, text: str) -> Response:
    """A list page in the portal's encoding, with validators dated by its newest entry."""
    return http.html(text, encoding=portal.encoding, declare=portal.declare_charset,
                     last_modified=newest(portal))


class Family:
    """The defaults: flat ``t<id>.html`` details under the column, uploads by month."""

    def detail_path(self, portal: Portal, item: Item) -> str:
        return f"{portal.column}t{item.number}.html"

    def attachment_path(self, portal: Portal, item: Item, ext: str) -> str:
        return f"/uploadfiles/{item.published:%Y%m}/{item.number}.{ext}"

    def attachment_href(self, portal: Portal, item: Item, ext: str) -> str:
        """The attachment link as the detail page writes it."""
        return self.attachment_path(portal, item, ext)

    def href(self, portal: Portal, item: Item) -> str:
        """An entry's link as the list writes it (absolute for off-site entries)."""
        return item.href or self.detail_path(portal, item)

    def column_href(self, portal: Portal) -> str:
        """The link to the column from the 政府信息公开 page."""
        return portal.column

    def list_pages(self, portal: Portal) -> dict[str, str]:
        """Static list pages by path (HTML)."""
        raise NotImplementedError

    def assets(self, portal: Portal) -> dict[str, tuple[bytes, str]]:
        """Static non-HTML files the list pages need (path -> body, content type)."""
        return {}

    def endpoint(self, portal: Portal, request: Request) -> Response | None:
        """A dynamic answer (API, paged list) for ``request``, or None when not one."""
        return None

    def list_urls(self, portal: Portal) -> list[str]:
        """Paths (with query) a crawler fetches to see every entry, for the manifest."""
        raise NotImplementedError

    def detail_head(self, portal: Portal, item: Item) -> str:
        """Extra ``<head>`` markup of a detail page."""
        return ""
